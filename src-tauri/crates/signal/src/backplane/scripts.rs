//! The Lua scripts that change shared room state. Each runs atomically inside Redis, so
//! capacity checks, code uniqueness and membership changes cannot interleave between
//! instances. Every membership change publishes the room's new member list (a versioned
//! snapshot, see `scripts.lua`) to the instances that hold its members, which cache it to
//! route signals without asking Redis; the scripts also return it to their caller. Keys outside `KEYS` (a peer's index key, instance channels) are derived from the
//! prefix, so the backplane needs a standalone Redis (or one primary), not Redis Cluster.

use redis::Script;

/// Makes a script from the shared helpers and a body.
macro_rules! script {
    ($body:literal) => {
        Script::new(concat!(include_str!("scripts.lua"), "\n", $body))
    };
}

/// All scripts, loaded once (redis-rs sends EVALSHA and falls back to EVAL after a restart).
/// "snap" below is a room snapshot, `<ver> <peer>=<instance>...` (see `cache.rs`).
pub(super) struct Scripts {
    /// KEYS room, peer-index; ARGV cap, peer, instance, token, ttl_ms, code, prefix.
    /// `{"taken"}` or `{"ok", snap}`.
    pub(super) create: Script,
    /// KEYS room, peer-index; ARGV peer, instance, token, ttl_ms, code, prefix, peer-joined frame.
    /// `{"none"}`, `{"full"}` or `{"ok", cap, snap, peers already here...}`.
    pub(super) join: Script,
    /// KEYS room, peer-index; ARGV peer, instance, prefix, peer-left frame. `{"no"}` or
    /// `{"ok", snap}` (an empty snap: the room is gone).
    pub(super) leave: Script,
    /// KEYS room; ARGV peer, instance, grace_ms, prefix, peer-left frame. Marks the member
    /// away (resumable until the grace ends). `{"no"}` or `{"ok", snap}`.
    pub(super) drop: Script,
    /// KEYS peer-index; ARGV peer, old token, instance, ttl_ms, prefix, peer-joined frame,
    /// new token. `{"no"}` or `{"ok", code, cap, previous instance, snap, peers here...}`.
    pub(super) resume: Script,
    /// KEYS room, peer-index; ARGV peer, instance, ttl_ms, prefix. Heartbeat: `{"no"}` if the
    /// place is no longer ours, else `{"ok", snap}` (the current one: caches heal from it).
    pub(super) touch: Script,
    /// KEYS counter; ARGV window_ms. Attempts in the current window, this one included.
    pub(super) count_join: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        Self {
            create: script!(
                r"
if redis.call('EXISTS', KEYS[1]) == 1 then return {'taken'} end
local ttl = tonumber(ARGV[5])
local now = now_ms()
redis.call('HSET', KEYS[1], 'cap', ARGV[1], 'seq', 1, 'm:' .. ARGV[2], entry(ARGV[3], now + ttl, 1, ARGV[4]))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SET', KEYS[2], ARGV[6], 'PX', ttl)
local snap = snapshot(ARGV[7], KEYS[1], {{ peer = ARGV[2], inst = ARGV[3] }})
return {'ok', snap}
"
            ),
            join: script!(
                r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'none'} end
local peer, ttl, prefix = ARGV[1], tonumber(ARGV[4]), ARGV[6]
local now = now_ms()
local live, gone = members(prefix, KEYS[1], now)
if #live == 0 then
  redis.call('DEL', KEYS[1])
  return {'none'}
end
local cap = tonumber(redis.call('HGET', KEYS[1], 'cap'))
if #live >= cap then
  if #gone > 0 then
    snapshot(prefix, KEYS[1], live)
    announce(prefix, live, gone)
  end
  return {'full'}
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'm:' .. peer, entry(ARGV[2], now + ttl, seq, ARGV[3]))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SET', KEYS[2], ARGV[5], 'PX', ttl)
local others = here(live, peer)
local after = { unpack(live) }
table.insert(after, { peer = peer, inst = ARGV[2] })
local snap = snapshot(prefix, KEYS[1], after)
announce(prefix, live, gone)
tell(prefix, live, peer, ARGV[7])
local out = {'ok', tostring(cap), snap}
for _, p in ipairs(others) do table.insert(out, p) end
return out
"
            ),
            leave: script!(
                r"
local peer, prefix = ARGV[1], ARGV[3]
local v = redis.call('HGET', KEYS[1], 'm:' .. peer)
if not v then return {'no'} end
local inst = parse(v)
if inst ~= ARGV[2] then return {'no'} end
redis.call('HDEL', KEYS[1], 'm:' .. peer)
redis.call('DEL', KEYS[2])
local live, gone = members(prefix, KEYS[1], now_ms())
if #live == 0 then
  redis.call('DEL', KEYS[1])
  return {'ok', ''}
end
local snap = snapshot(prefix, KEYS[1], live)
announce(prefix, live, gone)
tell(prefix, live, peer, ARGV[4])
return {'ok', snap}
"
            ),
            drop: script!(
                r"
local peer, prefix = ARGV[1], ARGV[4]
local v = redis.call('HGET', KEYS[1], 'm:' .. peer)
if not v then return {'no'} end
local inst, dl, seq, tok = parse(v)
if inst ~= ARGV[2] then return {'no'} end
local now = now_ms()
redis.call('HSET', KEYS[1], 'm:' .. peer, entry('', now + tonumber(ARGV[3]), seq, tok))
local live, gone = members(prefix, KEYS[1], now)
local snap = snapshot(prefix, KEYS[1], live)
announce(prefix, live, gone)
tell(prefix, live, peer, ARGV[5])
return {'ok', snap}
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
local live, gone = members(prefix, room, now)
local snap = snapshot(prefix, room, live)
announce(prefix, live, gone)
if inst ~= '' then
  -- Still marked here (its instance died or the old connection looks open): the room hears
  -- it drop first, as on a single instance.
  tell(prefix, live, peer, left_frame(peer, 'dropped'))
end
tell(prefix, live, peer, ARGV[6])
local out = {'ok', code, redis.call('HGET', room, 'cap'), inst, snap}
for _, p in ipairs(here(live, peer)) do table.insert(out, p) end
return out
"
            ),
            touch: script!(
                r"
local peer, ttl, prefix = ARGV[1], tonumber(ARGV[3]), ARGV[4]
local v = redis.call('HGET', KEYS[1], 'm:' .. peer)
if not v then return {'no'} end
local inst, dl, seq, tok = parse(v)
if inst ~= ARGV[2] then return {'no'} end
local now = now_ms()
redis.call('HSET', KEYS[1], 'm:' .. peer, entry(inst, now + ttl, seq, tok))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
local live, gone = members(prefix, KEYS[1], now)
if #gone > 0 then
  local snap = snapshot(prefix, KEYS[1], live)
  announce(prefix, live, gone)
  return {'ok', snap}
end
return {'ok', snap_text(tonumber(redis.call('HGET', KEYS[1], 'ver')) or 0, live)}
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
