/**
 * Commands whose implementation is imported when they run, not when the program is built: printing `--help`
 * or running `jobs list` must not load BullMQ, fastify, the sync or the HTTP client (bench/startup.ts).
 *
 * A command is declared in two places with one job each, and neither repeats the other:
 * - its name, arguments, options and help in a light module of this folder (what `--help`, the README's CLI
 *   reference and commander's parsing read), with `lazyAction(load)` as its action;
 * - what it does in its implementation module (`src/cli/<name>Command.ts`), whose `register…Command(program)`
 *   attaches an action to each command path with `program.command(name).action(fn)` — and nothing else.
 *
 * When the command runs, `lazyAction` imports the implementation, replays its `register…Command` on a
 * recorder (a commander `Command` whose `action()` keeps the function instead of installing it), and calls
 * the function recorded for the running command's path with commander's own arguments (`…args, opts, cmd`),
 * `cmd` being the declared command, so `cmd.optsWithGlobals()` sees the global flags.
 * test/foundation/startupImports.test.ts checks that every declared command has exactly one implementation.
 */
import { Command } from 'commander';

// commander's own type for an action handler.
// biome-ignore lint/suspicious/noExplicitAny: commander passes the declared arguments, options and command.
type Action = (...args: any[]) => void | Promise<void>;

/** What an implementation module exports: attach an action to each of its command paths. */
export type RegisterActions = (program: Command) => void;

/** A scratch program that records the actions an implementation attaches instead of installing them. */
class ActionRecorder extends Command {
  recorded: Action | undefined;
  override createCommand(name?: string): ActionRecorder {
    return new ActionRecorder(name);
  }
  override action(fn: Action): this {
    this.recorded = fn;
    return this;
  }
}

/** The names from the program down to `cmd`: `['events', 'tail']`. */
export function commandPath(cmd: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names;
}

/**
 * The action `register` attaches to the command at `path`. Throws when it attaches none, or when it declares
 * options there too (they belong in the light declaration, where `--help` reads them).
 */
export function recordedAction(register: RegisterActions, path: readonly string[]): Action {
  const root = new ActionRecorder();
  register(root);
  let node: Command | undefined = root;
  for (const name of path) node = node?.commands.find((c) => c.name() === name);
  const where = `\`${path.join(' ')}\``;
  if (!(node instanceof ActionRecorder) || node.recorded === undefined)
    throw new Error(`the implementation of ${where} attaches no action to it`);
  if (node.options.length > 0)
    throw new Error(`the implementation of ${where} declares options: declare them in src/cli/commands/`);
  return node.recorded;
}

/** An action that imports the command's implementation module when it runs, then runs its action. */
export function lazyAction(load: () => Promise<RegisterActions>): Action {
  return async function (this: Command, ...args: unknown[]) {
    const cmd = args.at(-1) as Command;
    const action = recordedAction(await load(), commandPath(cmd));
    await action.apply(this, args);
  };
}
