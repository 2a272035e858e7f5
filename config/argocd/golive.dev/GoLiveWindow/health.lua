-- Argo CD health of a golive GoLiveWindow (golive.dev/v1alpha1), from the
-- kstatus conditions golive records:
--   Healthy      the schedule is valid and evaluated; open or closed, the
--                message says until or from when
--   Degraded     Stalled: an unknown time zone, an invalid field, or no
--                opening within the horizon, named in the message
--   Progressing  golive has not evaluated the current spec yet
-- Argo CD runs this without Lua's string library: only base and table.
local hs = { status = "Progressing", message = "Waiting for golive to evaluate the window" }
if obj.metadata.deletionTimestamp ~= nil then
  hs.message = "Being deleted"
  return hs
end
if obj.status == nil or obj.status.observedGeneration == nil then
  return hs
end
if obj.status.observedGeneration ~= obj.metadata.generation then
  hs.message = "Waiting for golive to evaluate generation " .. tostring(obj.metadata.generation)
  return hs
end

local ready, stalled = nil, nil
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" then
      ready = condition
    elseif condition.type == "Stalled" then
      stalled = condition
    end
  end
end
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.reason .. ": " .. (stalled.message or "")
elseif ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "Evaluated"
  if obj.status.activeUpdates ~= nil and #obj.status.activeUpdates > 0 then
    hs.message = hs.message .. "; running: " .. table.concat(obj.status.activeUpdates, ", ")
  end
elseif ready ~= nil then
  hs.message = ready.reason .. ": " .. (ready.message or "")
end
return hs
