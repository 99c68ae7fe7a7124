import { MemoryModelHealthStore } from '../src/model-health/index.js';
import { describeModelHealthStoreContract } from '../../../test-support/model-health-store-contract.js';

describeModelHealthStoreContract('MemoryModelHealthStore', { create: async () => new MemoryModelHealthStore() });
