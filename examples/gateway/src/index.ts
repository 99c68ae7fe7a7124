export { createGateway } from './gateway.js';
export type { Gateway, GatewayOptions } from './gateway.js';
export { loadGatewaySettings, loadDemoSettings, loadProvidersFile, GatewayConfigError } from './config.js';
export type { GatewayConfig, ProviderConfig } from './config.js';
export { startDemoProviders, DEMO_PROVIDERS } from './demo-providers.js';
export type { DemoProviders } from './demo-providers.js';
export { startSimulatedProvider } from './simulated-provider.js';
export type { SimulatedProvider, SimulatedProviderOptions, SimulatedFailureMode } from './simulated-provider.js';
export { ProviderRouter } from './provider-router.js';
