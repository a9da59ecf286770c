/** The zero-config demo: simulator, mirror, worker (or in-process timers), read API and a live view. */
export { runDemo } from './runDemo.ts';
