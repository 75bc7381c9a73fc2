-- Shared helpers, prepended to every backplane script (see scripts.rs).
-- Room hash `<prefix>room:<CODE>`: `cap`, `seq`, `ver` and one `m:<peer>` field per member
-- whose value is `instance|deadline_ms|seq|resume_token`; an empty instance means "away,
-- resumable". Deadlines use Redis's clock (TIME) so instances need no synchronised clocks.
-- `ver` comes from one counter for all rooms, `<prefix>ver`, so it only grows, also when a
-- room is deleted and its code reused.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function parse(v)
  local inst, dl, seq, tok = string.match(v, '^([^|]*)|(%d+)|(%d+)|(.*)$')
  return inst, tonumber(dl), tonumber(seq), tok
end

local function entry(inst, dl, seq, tok)
  return inst .. '|' .. dl .. '|' .. seq .. '|' .. tok
end

-- Sends `frame` to every connected member but `except`, through its instance's channel.
local function tell(prefix, live, except, frame)
  for _, m in ipairs(live) do
    if m.peer ~= except and m.inst ~= '' then
      redis.call('PUBLISH', prefix .. 'inst:' .. m.inst, 'd ' .. m.peer .. '\n' .. frame)
    end
  end
end

local function left_frame(peer, reason)
  return '{"type":"peer-left","peer":"' .. peer .. '","reason":"' .. reason .. '"}'
end

-- Members whose deadline has not passed, oldest first, and the expired ones (a dead
-- instance's, or away past their grace), which are removed here. Call `announce` for the
-- expired ones after `snapshot`.
local function members(prefix, room, now)
  local all = redis.call('HGETALL', room)
  local live, gone = {}, {}
  for i = 1, #all, 2 do
    local field = all[i]
    if string.sub(field, 1, 2) == 'm:' then
      local inst, dl, seq, tok = parse(all[i + 1])
      local m = { peer = string.sub(field, 3), inst = inst or '', dl = dl or 0, seq = seq or 0, tok = tok }
      if m.dl >= now then table.insert(live, m) else table.insert(gone, m) end
    end
  end
  table.sort(live, function(a, b) return a.seq < b.seq end)
  for _, g in ipairs(gone) do
    redis.call('HDEL', room, 'm:' .. g.peer)
    redis.call('DEL', prefix .. 'peer:' .. g.peer)
  end
  return live, gone
end

-- The others hear that the expired members dropped.
local function announce(prefix, live, gone)
  for _, g in ipairs(gone) do
    if g.inst ~= '' then
      tell(prefix, live, nil, left_frame(g.peer, 'dropped'))
    end
  end
end

-- `<ver> <peer>=<instance> ...`: the connected members, as instances cache them.
local function snap_text(ver, live)
  local parts = { tostring(ver) }
  for _, m in ipairs(live) do
    if m.inst ~= '' then table.insert(parts, m.peer .. '=' .. m.inst) end
  end
  return table.concat(parts, ' ')
end

-- Membership changed: a new version, sent to every instance with a connected member (each
-- once) before any frame about the change, so an instance knows the new members by the time
-- its clients hear of them.
local function snapshot(prefix, room, live)
  local ver = redis.call('INCR', prefix .. 'ver')
  redis.call('HSET', room, 'ver', ver)
  local text = snap_text(ver, live)
  local code = string.sub(room, #prefix + 6)
  local seen = {}
  for _, m in ipairs(live) do
    if m.inst ~= '' and not seen[m.inst] then
      seen[m.inst] = true
      redis.call('PUBLISH', prefix .. 'inst:' .. m.inst, 'r ' .. code .. ' ' .. text)
    end
  end
  return text
end

local function here(live, except)
  local out = {}
  for _, m in ipairs(live) do
    if m.peer ~= except and m.inst ~= '' then table.insert(out, m.peer) end
  end
  return out
end
