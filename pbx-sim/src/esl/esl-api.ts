import { createEslCallControlApi, type EslCallControlApiDeps, joiningOriginate } from "./esl-call-control-api.js";
import { type ChannelTable, channelsAsDelimited, channelsAsJson } from "./esl-channel-table.js";
import type { ApiResult } from "./esl-commands.js";
import { parseOriginate } from "./esl-originate-request.js";
import type { EslSimulatedCalls } from "./esl-simulated-calls.js";
import { RECORDED_FS } from "./recorded-fs.js";

export interface EslApiDeps {
  readonly channels: ChannelTable;
  readonly calls: EslSimulatedCalls;
  readonly control: EslCallControlApiDeps;
}

type ApiCommand = (
  argument: string | undefined,
  job: { readonly jobUuid: string; readonly background: boolean },
) => ApiResult | Promise<ApiResult>;

/** `show channels [count] [as json|delim]`: the part of mod_commands' show the agent uses. */
function show(channels: ChannelTable, argument: string | undefined): ApiResult {
  const words = (argument ?? "").split(" ").filter((word) => word !== "");
  if (words[0] !== "channels") {
    // Only the channel list is simulated; the rest of `show` answers with its usage, as for a bad argument.
    return {
      output:
        "-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status\n",
    };
  }
  const count = words[1] === "count";
  const as = words[count ? 3 : 2] !== undefined && words[count ? 2 : 1] === "as" ? words[count ? 3 : 2] : "delim";
  const rows = channels.rows();
  if (as === "json") {
    return { output: count ? JSON.stringify({ row_count: rows.length, rows: [] }) : channelsAsJson(rows) };
  }
  if (as === "delim" || as === "csv") {
    return { output: count ? `\n${rows.length} total.\n` : channelsAsDelimited(rows) };
  }
  return { output: `-ERR Cannot find format ${as}\n` };
}

/** The api commands the simulated switch knows; any other is `-ERR <cmd> Command not found!`. */
export function createEslApi(deps: EslApiDeps) {
  const commands: Readonly<Record<string, ApiCommand>> = {
    ...createEslCallControlApi(deps.control),
    show: (argument) => show(deps.channels, argument),
    hostname: () => ({ output: RECORDED_FS.hostname }),
    async originate(argument, job) {
      const joining = await joiningOriginate(deps.control, argument ?? "", job);
      if (joining !== undefined) return joining;
      const parsed = parseOriginate(argument ?? "");
      if (!parsed.ok) return { output: parsed.reply };
      const outcome = await deps.calls.originate(parsed.request, { ...job, argument: argument ?? "" });
      return { output: outcome.result, announced: outcome.announced };
    },
  };
  return (
    command: string,
    argument: string | undefined,
    job: { readonly jobUuid: string; readonly background: boolean },
  ): Promise<ApiResult> => {
    const run = Object.hasOwn(commands, command) ? commands[command] : undefined;
    if (!run) return Promise.resolve({ output: `-ERR ${command} Command not found!\n` });
    return Promise.resolve(run(argument, job));
  };
}
