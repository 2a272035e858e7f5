-- Argo CD health of a golive UpdateRequest (golive.dev/v1alpha1), from the
-- phase and the kstatus conditions golive records:
--   Healthy      the release is in production (Succeeded)
--   Degraded     it ended otherwise (Failed, RolledBack, Rejected, Aborted)
--                or is Stalled until a person fixes what the message names
--   Suspended    it waits for time, a go-live window or a person (soak,
--                approvals, the planned start, a supervisor's go,
--                acceptance, spec.suspend)
--   Progressing  golive is working on it, or has not seen its spec yet
-- Argo CD runs this without Lua's string library: only base and table.
local hs = { status = "Progressing", message = "Waiting for golive to observe the request" }
if obj.metadata.deletionTimestamp ~= nil then
  hs.message = "Being deleted"
  return hs
end
if obj.status == nil or obj.status.observedGeneration == nil then
  return hs
end
if obj.status.observedGeneration ~= obj.metadata.generation then
  hs.message = "Waiting for golive to observe generation " .. tostring(obj.metadata.generation)
  return hs
end

local conditions = {}
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    conditions[condition.type] = condition
  end
end
local phase = obj.status.phase or "Pending"
local ready = conditions["Ready"]
hs.message = phase
if ready ~= nil and ready.message ~= nil and ready.message ~= "" then
  hs.message = phase .. ": " .. ready.message
end

local ended = { Failed = true, RolledBack = true, Rejected = true, Aborted = true }
local waits = {
  Waiting = true, Soaking = true, AwaitingApproval = true, AwaitingGo = true, WindowClosed = true, NoticeLead = true, Frozen = true,
  ConcurrencyLimit = true, EmergencyBudgetExhausted = true, TargetLocked = true, Suspended = true,
}
local stalled = conditions["Stalled"]
if phase == "Succeeded" then
  hs.status = "Healthy"
elseif ended[phase] or (stalled ~= nil and stalled.status == "True") then
  hs.status = "Degraded"
elseif ready ~= nil and waits[ready.reason] then
  hs.status = "Suspended"
else
  hs.status = "Progressing"
end
return hs
