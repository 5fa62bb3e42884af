--[[
  create-flow for a create that asks to claim the new flow (NewFlow.claim): the same body
  (includes/create) with includes/claim, which the creator's claim of a flow of a queue with
  limits needs (claimFlow). create-flow leaves that include out.

  Input: as create-flow (create-flow-1.lua): KEYS[1] the flow hash; ARGV[1] the key base,
  ARGV[2..21] the flow, with ARGV[19] the worker to claim it for and ARGV[20] its lease expiry.

  Output: as create-flow.
]]
--- @include "includes/claim"
--- @include "includes/create"
