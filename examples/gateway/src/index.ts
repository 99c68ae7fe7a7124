export { createGateway } from './server/gateway.js';
export type { Gateway, GatewayEnv, GatewayOptions } from './server/gateway.js';
export {
  loadGatewaySettings,
  loadDemoSettings,
  loadProvidersFile,
  loadContextManagerChoice,
  GatewayConfigError,
} from './config.js';
export type { GatewayConfig, ProviderConfig, ContextManagerChoice } from './config.js';
export { maxTokensParameterOf, type MaxTokensParameter } from './protocol/max-tokens-parameter.js';
export {
  ApiKeysFileError,
  ANONYMOUS_API_KEY_NAME,
  DEMO_API_KEYS,
  loadApiKeys,
  loadApiKeysFile,
  parseApiKeys,
} from './api-keys/api-keys-file.js';
export type { ApiKeyEntry, ApiKeyPlan, ApiKeysConfig, ApiKeysFileErrorCode } from './api-keys/api-keys-file.js';
export { ApiKeyRegistry, ApiKeyAccount } from './api-keys/api-key-registry.js';
export { startDemoProviders, DEMO_PROVIDERS, DEMO_PRICES, DEMO_REASONING_MODELS } from './providers/demo-providers.js';
export type { DemoProviders } from './providers/demo-providers.js';
export { startSimulatedProvider } from './providers/simulated-provider.js';
export type {
  SimulatedProvider,
  SimulatedProviderOptions,
  SimulatedFailureMode,
} from './providers/simulated-provider.js';
export { ProviderRouter } from './providers/provider-router.js';
export { createDashboardHandler, classifyModelHealth, DEFAULT_HEALTH_THRESHOLDS } from './dashboard/index.js';
export type { DashboardHandler, DashboardHandlerOptions, HealthThresholds } from './dashboard/index.js';
