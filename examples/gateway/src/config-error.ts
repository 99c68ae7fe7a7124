/** A configuration value that cannot work; the message names the variable and the fix. */
export class GatewayConfigError extends Error {
  override readonly name: string = 'GatewayConfigError';
}
