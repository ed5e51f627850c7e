-- A headless Neovim session against `mj lsp`, with Neovim's own LSP client: open the
-- example, wait for diagnostics, hover, go to definition, find references, complete,
-- apply a quick fix and rename across files. Each step prints `ok <step>`; any failure
-- exits non-zero with the reason.
--
--   MJ_BIN=path/to/mj MJ_ROOT=path/to/project \
--     nvim --headless -u NONE -i NONE -n -c 'luafile editors/nvim/session.lua'
--
-- Written for Neovim 0.7 (Debian 12), whose client is `vim.lsp.start_client`.

local mj = assert(os.getenv("MJ_BIN"), "MJ_BIN")
local root = assert(os.getenv("MJ_ROOT"), "MJ_ROOT")

local function say(s)
  io.stdout:write(s .. "\n")
  io.stdout:flush()
end

local function fail(msg)
  io.stderr:write("FAIL: " .. msg .. "\n")
  io.stderr:flush()
  vim.cmd("cquit 1")
end

local function check(cond, msg)
  if not cond then
    fail(msg)
  end
end

local function main()
  -- Every diagnostics notification, by file name.
  local published = {}
  local client_id = vim.lsp.start_client({
    name = "mj",
    cmd = { mj, "lsp" },
    root_dir = root,
    flags = { debounce_text_changes = 0 },
    handlers = {
      ["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
        local name = vim.uri_to_fname(result.uri)
        published[name] = result.diagnostics
        vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
      end,
    },
  })
  check(client_id, "the client did not start")

  local function open(file)
    vim.cmd("edit " .. root .. "/" .. file)
    local buf = vim.api.nvim_get_current_buf()
    vim.api.nvim_buf_set_option(buf, "filetype", "mj")
    vim.lsp.buf_attach_client(buf, client_id)
    return buf
  end

  local model_path = root .. "/model.mj"
  local buf = open("model.mj")
  local client = vim.lsp.get_client_by_id(client_id)
  check(vim.wait(20000, function() return client.initialized end, 20), "initialize timed out")

  -- Diagnostics arrive for the opened file; the example is clean.
  check(vim.wait(20000, function() return published[model_path] ~= nil end, 20), "no diagnostics")
  check(#published[model_path] == 0, "the example has diagnostics: " .. vim.inspect(published[model_path]))
  say("ok diagnostics")

  -- A position (0-based line, UTF-16 column) of the first `needle`, plus `shift` characters.
  local function pos(b, needle, shift)
    local lines = vim.api.nvim_buf_get_lines(b, 0, -1, false)
    for i, line in ipairs(lines) do
      local s = line:find(needle, 1, true)
      if s then
        return { line = i - 1, character = vim.str_utfindex(line, s - 1) + (shift or 0) }
      end
    end
    fail("not in the buffer: " .. needle)
  end

  local function request(method, params, b)
    local response, err = client.request_sync(method, params, 20000, b or buf)
    check(response, method .. " failed: " .. tostring(err))
    return response
  end

  local function at(b, needle, shift)
    return { textDocument = { uri = vim.uri_from_bufnr(b) }, position = pos(b, needle, shift) }
  end

  -- Hover: the kind, display name and type of a metric.
  local hover = request("textDocument/hover", at(buf, "aov_30d", 0))
  check(hover.result and hover.result.contents.value:find("composite metric", 1, true), "hover: " .. vim.inspect(hover))
  check(hover.result.contents.value:find("最近30天客单价", 1, true), "hover display name")
  say("ok hover")

  -- Go to definition, across files.
  local def = request("textDocument/definition", at(buf, "consumer //", 0))
  local target = def.result.uri or (def.result[1] and def.result[1].uri)
  check(target and target:match("oneid%.mj$"), "definition: " .. vim.inspect(def.result))
  say("ok definition")

  -- References: the derived metric's definition and its three uses.
  local params = at(buf, "derived pay_amt_30d", 8)
  params.context = { includeDeclaration = true }
  local refs = request("textDocument/references", params)
  check(#refs.result == 4, "references: " .. vim.inspect(refs.result))
  say("ok references")

  -- Completion inside `metric[…]`: the modifiers of that business process.
  local line = pos(buf, "visit_cnt[3d]", 0).line
  local text = vim.api.nvim_buf_get_lines(buf, line, line + 1, false)[1]
  vim.api.nvim_buf_set_lines(buf, line, line + 1, false, { (text:gsub("visit_cnt%[3d%]", "visit_cnt[3d, ]")) })
  local done = request("textDocument/completion", at(buf, "visit_cnt[3d, ]", 14))
  local items = done.result.items or done.result
  local labels = {}
  for _, item in ipairs(items) do
    labels[item.label] = true
  end
  check(labels["consult"] and labels["30d"] and not labels["online"], "completion: " .. vim.inspect(vim.tbl_keys(labels)))
  vim.api.nvim_buf_set_lines(buf, line, line + 1, false, { text })
  say("ok completion")

  -- Break the naming rule; a diagnostic with its code arrives; its quick fix repairs it.
  published[model_path] = nil
  line = pos(buf, "derived pay_amt_30d ", 0).line
  text = vim.api.nvim_buf_get_lines(buf, line, line + 1, false)[1]
  vim.api.nvim_buf_set_lines(buf, line, line + 1, false, { (text:gsub("pay_amt_30d", "pay_30d_amt", 1)) })
  local mismatch
  check(vim.wait(20000, function()
    for _, d in ipairs(published[model_path] or {}) do
      if d.code == "mj::naming::derived_name_mismatch" then
        mismatch = d
      end
    end
    return mismatch ~= nil
  end, 20), "no naming diagnostic: " .. vim.inspect(published[model_path]))
  say("ok diagnostic on change")

  local actions = request("textDocument/codeAction", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = mismatch.range,
    context = { diagnostics = { mismatch } },
  })
  local action = actions.result and actions.result[1]
  check(action and action.edit, "no quick fix: " .. vim.inspect(actions.result))
  published[model_path] = nil
  vim.lsp.util.apply_workspace_edit(action.edit, "utf-16")
  check(vim.api.nvim_buf_get_lines(buf, line, line + 1, false)[1]:find("derived pay_amt_30d", 1, true), "the fix was not applied")
  check(vim.wait(20000, function()
    return published[model_path] ~= nil and #published[model_path] == 0
  end, 20), "diagnostics after the fix: " .. vim.inspect(published[model_path]))
  say("ok code action")

  -- Rename an atomic metric: the derived metrics composed from it follow, in every file.
  params = at(buf, "atomic pay_amt ", 7)
  params.newName = "gmv"
  local renamed = request("textDocument/rename", params)
  check(renamed.result and not renamed.err, "rename: " .. vim.inspect(renamed))
  vim.lsp.util.apply_workspace_edit(renamed.result, "utf-16")
  local all = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
  check(all:find("derived online_gmv_30d", 1, true) and not all:find("pay_amt", 1, true), "rename in model.mj")
  local showroom = vim.fn.bufnr(root .. "/showroom.mj")
  check(showroom > 0, "the rename did not reach showroom.mj")
  local other = table.concat(vim.api.nvim_buf_get_lines(showroom, 0, -1, false), "\n")
  check(other:find("kpi gmv_30d, aov_30d", 1, true), "rename in showroom.mj: " .. other)
  say("ok rename")

  -- A rename that breaks the naming rule is refused with the reason.
  params = at(buf, "derived gmv_30d", 8)
  params.newName = "pay_30d_amt"
  local refused = client.request_sync("textDocument/rename", params, 20000, buf)
  check(refused and refused.err and refused.err.message:find("should be named", 1, true), "refusal: " .. vim.inspect(refused))
  say("ok rename refused")

  vim.lsp.stop_client(client_id)
  check(vim.wait(10000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 20), "the server did not stop")
  say("ok shutdown")
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  fail(tostring(err))
end
vim.cmd("qa!")
