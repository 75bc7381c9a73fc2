//! The Lua scripts that change shared room state. Each runs atomically inside Redis, so
//! capacity checks, code uniqueness and membership changes cannot interleave between
//! instances. Keys outside `KEYS` (a peer's index key, instance channels) are derived from the
//! prefix, so the backplane needs a standalone Redis (or one primary), not Redis Cluster.

use redis::Script;

/// Makes a script from the shared helpers and a body.
macro_rules! script {
    ($body:literal) => {
        Script::new(concat!(include_str!("scripts.lua"), "\n", $body))
    };
}

/// All scripts, loaded once (redis-rs sends EVALSHA and falls back to EVAL after a restart).
pub(super) struct Scripts {
    /// KEYS room, peer-index; ARGV cap, peer, instance, token, ttl_ms, code. 1 made, 0 taken.
    pub(super) create: Script,
    /// KEYS room, peer-index; ARGV peer, instance, token, ttl_ms, code, prefix, peer-joined frame.
    /// `{"none"}`, `{"full"}` or `{"ok", cap, peers already here...}`.
    pub(super) join: Script,
    /// KEYS room, peer-index; ARGV peer, instance, prefix, peer-left frame. 1 if removed.
    pub(super) leave: Script,
    /// KEYS room; ARGV peer, instance, grace_ms, prefix, peer-left frame. Marks the member
    /// away (resumable until the grace ends). 1 if it was ours.
    pub(super) drop: Script,
    /// KEYS peer-index; ARGV peer, old token, instance, ttl_ms, prefix, peer-joined frame,
    /// new token. `{"no"}` or `{"ok", code, cap, previous instance, peers here...}`.
    pub(super) resume: Script,
    /// KEYS room, peer-index; ARGV peer, instance, ttl_ms, prefix. Heartbeat: 1 if still ours.
    pub(super) touch: Script,
    /// KEYS room; ARGV from, to, instance, prefix, frame. 0 no such peer, 1 published,
    /// 2 the target is on this instance (deliver locally).
    pub(super) signal: Script,
    /// KEYS counter; ARGV window_ms. Attempts in the current window, this one included.
    pub(super) count_join: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        Self {
            create: script!(
                r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local ttl = tonumber(ARGV[5])
local now = now_ms()
redis.call('HSET', KEYS[1], 'cap', ARGV[1], 'seq', 1, 'm:' .. ARGV[2], entry(ARGV[3], now + ttl, 1, ARGV[4]))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SET', KEYS[2], ARGV[6], 'PX', ttl)
return 1
"
            ),
            join: script!(
                r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'none'} end
local peer, ttl, prefix = ARGV[1], tonumber(ARGV[4]), ARGV[6]
local now = now_ms()
local live = members(prefix, KEYS[1], now)
if #live == 0 then
  redis.call('DEL', KEYS[1])
  return {'none'}
end
local cap = tonumber(redis.call('HGET', KEYS[1], 'cap'))
if #live >= cap then return {'full'} end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'm:' .. peer, entry(ARGV[2], now + ttl, seq, ARGV[3]))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SET', KEYS[2], ARGV[5], 'PX', ttl)
tell(prefix, live, peer, ARGV[7])
local out = {'ok', tostring(cap)}
for _, p in ipairs(here(live, peer)) do table.insert(out, p) end
return out
"
            ),
            leave: script!(
                r"
local peer, prefix = ARGV[1], ARGV[3]
local v = redis.call('HGET', KEYS[1], 'm:' .. peer)
if not v then return 0 end
local inst = parse(v)
if inst ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], 'm:' .. peer)
redis.call('DEL', KEYS[2])
local live = members(prefix, KEYS[1], now_ms())
if #live == 0 then
  redis.call('DEL', KEYS[1])
else
  tell(prefix, live, peer, ARGV[4])
end
return 1
"
            ),
            drop: script!(
                r"
local peer, prefix = ARGV[1], ARGV[4]
local v = redis.call('HGET', KEYS[1], 'm:' .. peer)
if not v then return 0 end
local inst, dl, seq, tok = parse(v)
if inst ~= ARGV[2] then return 0 end
local now = now_ms()
redis.call('HSET', KEYS[1], 'm:' .. peer, entry('', now + tonumber(ARGV[3]), seq, tok))
tell(prefix, members(prefix, KEYS[1], now), peer, ARGV[5])
return 1
"
            ),
            resume: script!(
                r"
local peer, ttl, prefix = ARGV[1], tonumber(ARGV[4]), ARGV[5]
local code = redis.call('GET', KEYS[1])
if not code then return {'no'} end
local room = prefix .. 'room:' .. code
local v = redis.call('HGET', room, 'm:' .. peer)
if not v then return {'no'} end
local inst, dl, seq, tok = parse(v)
local now = now_ms()
if dl < now or tok ~= ARGV[2] then return {'no'} end
redis.call('HSET', room, 'm:' .. peer, entry(ARGV[3], now + ttl, seq, ARGV[7]))
redis.call('PEXPIRE', room, ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
if inst ~= '' and inst ~= ARGV[3] then
  redis.call('PUBLISH', prefix .. 'inst:' .. inst, 'k ' .. peer)
end
local live = members(prefix, room, now)
if inst ~= '' then
  -- Still marked here (its instance died or the old connection looks open): the room hears
  -- it drop first, as on a single instance.
  tell(prefix, live, peer, left_frame(peer, 'dropped'))
end
tell(prefix, live, peer, ARGV[6])
local out = {'ok', code, redis.call('HGET', room, 'cap'), inst}
for _, p in ipairs(here(live, peer)) do table.insert(out, p) end
return out
"
            ),
            touch: script!(
                r"
local peer, ttl, prefix = ARGV[1], tonumber(ARGV[3]), ARGV[4]
local v = redis.call('HGET', KEYS[1], 'm:' .. peer)
if not v then return 0 end
local inst, dl, seq, tok = parse(v)
if inst ~= ARGV[2] then return 0 end
local now = now_ms()
redis.call('HSET', KEYS[1], 'm:' .. peer, entry(inst, now + ttl, seq, tok))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
members(prefix, KEYS[1], now)
return 1
"
            ),
            signal: script!(
                r"
local from, to, me, prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local f = redis.call('HGET', KEYS[1], 'm:' .. from)
if not f or parse(f) ~= me then return 0 end
local t = redis.call('HGET', KEYS[1], 'm:' .. to)
if not t then return 0 end
local inst, dl = parse(t)
if inst == '' or dl < now_ms() then return 0 end
if inst == me then return 2 end
redis.call('PUBLISH', prefix .. 'inst:' .. inst, 'd ' .. to .. '\n' .. ARGV[5])
return 1
"
            ),
            count_join: Script::new(
                r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
",
            ),
        }
    }
}
