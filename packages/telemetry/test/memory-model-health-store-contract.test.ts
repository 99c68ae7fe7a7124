import { MemoryModelHealthStore } from '../src/index.js';
import { describeModelHealthStoreContract } from '../../../test-support/model-health-store-contract.js';

describeModelHealthStoreContract('MemoryModelHealthStore', { create: async () => new MemoryModelHealthStore() });
