/** The web console the server answers at `/`: its JSON views, its two actions and the security headers it needs. */

export type { ConsoleOptions } from './registerConsole.ts';
export { isConsolePublicPath, registerConsole } from './registerConsole.ts';
export { CONTENT_SECURITY_POLICY, registerSecurityHeaders } from './security.ts';
export type * from './wire.ts';
