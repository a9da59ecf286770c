/**
 * The fleet's side of a dense day swept from both ends (src/sync/daySplit.ts has the why): the two walkers'
 * claims live in one Redis hash, `<prefix>:fleet:split:<partition>` (the partition of the walk from the
 * start, e.g. `rm:fleet:split:window:2026-11-01`), fields `asc`, `desc`, and once the walks met `by` and `at`.
 * One Lua script extends a claim or fixes the meeting point, so two workers on two machines can never both
 * take a position. Positions are compared byte by byte inside the script (not with Lua's `<`, which follows
 * the server's collation locale), the same order as `comparePositions`.
 *
 * The hash expires `ttlMs` after the last claim (a week by default): long enough for any retry of the day's
 * two window jobs, short enough that Redis does not keep one per day forever.
 */
import type { Redis } from 'ioredis';
import type { DaySplit, Meeting, WalkSide } from '../sync/index.ts';

/** How long the claims of a split day are kept after the last one, ms. */
export const SPLIT_TTL_MS = 7 * 86_400_000;

const CLAIM = `
local function less(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local key, side, pos = KEYS[1], ARGV[1], ARGV[2]
local at = redis.call('HGET', key, 'at')
if at then return {redis.call('HGET', key, 'by'), at} end
local other = redis.call('HGET', key, side == 'asc' and 'desc' or 'asc')
local mine = redis.call('HGET', key, side)
if side == 'asc' then
  if other and not less(pos, other) then
    redis.call('HSET', key, 'by', 'asc', 'at', other)
    return {'asc', other}
  end
  if not mine or less(mine, pos) then redis.call('HSET', key, 'asc', pos) end
else
  if other and not less(other, pos) then
    redis.call('HSET', key, 'by', 'desc', 'at', other)
    return {'desc', other}
  end
  if not mine or less(pos, mine) then redis.call('HSET', key, 'desc', pos) end
end
redis.call('PEXPIRE', key, ARGV[3])
return false
`;

export function splitKey(prefix: string, partition: string): string {
  return `${prefix}:fleet:split:${partition}`;
}

export interface RedisDaySplitOptions {
  /** The key prefix of the fleet (QUEUE_PREFIX). */
  prefix: string;
  /** The partition of the walk from the start, e.g. `window:2026-11-01`. */
  partition: string;
  /** Queue the walk from the end (a window job whose id makes a second add a no-op). */
  queueTail: () => Promise<void>;
  /** @default SPLIT_TTL_MS */
  ttlMs?: number;
}

/** A `DaySplit` whose claims are shared by every worker on this Redis and prefix. */
export function redisDaySplit(redis: Redis, opts: RedisDaySplitOptions): DaySplit {
  const key = splitKey(opts.prefix, opts.partition);
  const ttl = String(opts.ttlMs ?? SPLIT_TTL_MS);
  return {
    queueTail: opts.queueTail,
    async claim(side: WalkSide, position: string): Promise<Meeting | undefined> {
      const r = (await redis.eval(CLAIM, 1, key, side, position, ttl)) as [string, string] | null;
      if (!r) return undefined;
      return { by: r[0] === 'desc' ? 'desc' : 'asc', at: r[1] };
    },
  };
}
