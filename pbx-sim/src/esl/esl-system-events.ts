import { nowMicros } from "../shared/clock.js";
import type { RenderedEslEvent } from "./esl-call-render.js";
import type { EslEvent } from "./esl-event.js";
import { formatGmtDate, formatLocalDate } from "./esl-time.js";
import { RECORDED_FS } from "./recorded-fs.js";

type Headers = Array<readonly [string, string]>;

/** Where in FreeSWITCH an event is fired from, as its Event-Calling-* headers say (fs-real captures). */
interface EventSource {
  readonly file: string;
  readonly func: string;
  readonly line: number;
}

const HEARTBEAT_SOURCE: EventSource = { file: "switch_core.c", func: "send_heartbeat", line: 95 };
const API_SOURCE: EventSource = { file: "switch_loadable_module.c", func: "switch_api_execute", line: 2954 };
const JOB_SOURCE: EventSource = { file: "mod_event_socket.c", func: "api_exec", line: 1572 };

/** What a HEARTBEAT reports about the simulated switch. */
export interface SwitchStatus {
  readonly uptimeMs: number;
  readonly sessionCount: number;
  readonly sessionsSinceStartup: number;
  readonly sessionPeak: number;
}

/** Builds the events the simulated switch fires by itself (not replayed from a call): HEARTBEAT, API, BACKGROUND_JOB. */
export interface SystemEvents {
  heartbeat(status: SwitchStatus): RenderedEslEvent;
  /** The API event fired for every api/bgapi command, dated when the command started. */
  api(command: string, argument: string | undefined, startedUs: number): RenderedEslEvent;
  backgroundJob(jobUuid: string, command: string, argument: string | undefined, result: string): RenderedEslEvent;
}

function uptimeText(ms: number) {
  const total = Math.floor(ms);
  const days = Math.floor(total / 86_400_000);
  const hours = Math.floor(total / 3_600_000) % 24;
  const minutes = Math.floor(total / 60_000) % 60;
  const seconds = Math.floor(total / 1000) % 60;
  return `0 years, ${days} days, ${hours} hours, ${minutes} minutes, ${seconds} seconds, ${total % 1000} milliseconds, 0 microseconds`;
}

export function createSystemEvents(coreUuid: string): SystemEvents {
  const stamp = (name: string, source: EventSource, atUs: number): Headers => {
    const sec = Math.floor(atUs / 1_000_000);
    return [
      ["Event-Name", name],
      ["Core-UUID", coreUuid],
      ["FreeSWITCH-Hostname", RECORDED_FS.hostname],
      ["FreeSWITCH-Switchname", RECORDED_FS.hostname],
      ["FreeSWITCH-IPv4", RECORDED_FS.ipv4],
      ["FreeSWITCH-IPv6", RECORDED_FS.ipv6],
      ["Event-Date-Local", formatLocalDate(sec)],
      ["Event-Date-GMT", formatGmtDate(sec)],
      ["Event-Date-Timestamp", String(atUs)],
      ["Event-Calling-File", source.file],
      ["Event-Calling-Function", source.func],
      ["Event-Calling-Line-Number", String(source.line)],
      ["Event-Sequence", ""],
    ];
  };
  const rendered = (atUs: number, name: string, event: EslEvent): RenderedEslEvent => ({ atUs, name, event });

  return {
    heartbeat(status) {
      const atUs = nowMicros();
      const headers: Headers = [
        ...stamp("HEARTBEAT", HEARTBEAT_SOURCE, atUs),
        ["Event-Info", "System Ready"],
        ["Up-Time", uptimeText(status.uptimeMs)],
        ["FreeSWITCH-Version", RECORDED_FS.version],
        ["Uptime-msec", String(Math.floor(status.uptimeMs))],
        ["Session-Count", String(status.sessionCount)],
        ["Max-Sessions", String(RECORDED_FS.maxSessions)],
        // Rate and CPU figures are the recorded box's: the simulator has no media load to measure.
        ["Session-Per-Sec", "30"],
        ["Session-Per-Sec-Last", "0"],
        ["Session-Per-Sec-Max", "13"],
        ["Session-Per-Sec-FiveMin", "4"],
        ["Session-Since-Startup", String(status.sessionsSinceStartup)],
        ["Session-Peak-Max", String(status.sessionPeak)],
        ["Session-Peak-FiveMin", String(status.sessionPeak)],
        ["Idle-CPU", "95.133333"],
      ];
      return rendered(atUs, "HEARTBEAT", { headers });
    },
    api(command, argument, startedUs) {
      const headers: Headers = [...stamp("API", API_SOURCE, startedUs), ["API-Command", command]];
      if (argument !== undefined) headers.push(["API-Command-Argument", argument]);
      return rendered(startedUs, "API", { headers });
    },
    backgroundJob(jobUuid, command, argument, result) {
      const atUs = nowMicros();
      const headers: Headers = [
        ...stamp("BACKGROUND_JOB", JOB_SOURCE, atUs),
        ["Job-UUID", jobUuid],
        ["Job-Command", command],
      ];
      if (argument !== undefined) headers.push(["Job-Command-Arg", argument]);
      return rendered(atUs, "BACKGROUND_JOB", { headers, body: result });
    },
  };
}
