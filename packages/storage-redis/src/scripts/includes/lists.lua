-- Lists kept by key in a table (a batch's index writes, gathered to be made in one call each).

-- Appends `a` (and `b`, when given) to the list `lists[key]`, made on first use.
local function appendTo(lists, key, a, b)
  local list = lists[key]
  if not list then
    list = {}
    lists[key] = list
  end
  list[#list + 1] = a
  if b then
    list[#list + 1] = b
  end
end
