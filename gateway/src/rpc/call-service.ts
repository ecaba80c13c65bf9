import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import {
  AddToConferenceSchema,
  SpyMode as AgentSpyMode,
  TransferMode as AgentTransferMode,
  HangupCallSchema,
  HoldCallSchema,
  InterceptCallSchema,
  ParkCallSchema,
  ResumeCallSchema,
  SendDtmfSchema,
  SpyCallSchema,
  TransferCallSchema,
} from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { type CallService, SpyMode, TransferMode } from "@callmesh/gen/callmesh/crm/v1/call_service_pb.js";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { CallControl } from "../domain/call-control.js";
import type { createClickToCall } from "../domain/click-to-call.js";
import { requireScope, Scope } from "../domain/scopes.js";
import type { TenantDirectory } from "../domain/tenant-directory.js";
import { principalOf } from "./api-auth.js";

const transferModes: Record<TransferMode, AgentTransferMode> = {
  [TransferMode.UNSPECIFIED]: AgentTransferMode.BLIND,
  [TransferMode.BLIND]: AgentTransferMode.BLIND,
  [TransferMode.ATTENDED]: AgentTransferMode.ATTENDED,
};

const spyModes: Record<SpyMode, AgentSpyMode> = {
  [SpyMode.UNSPECIFIED]: AgentSpyMode.LISTEN,
  [SpyMode.LISTEN]: AgentSpyMode.LISTEN,
  [SpyMode.WHISPER]: AgentSpyMode.WHISPER,
  [SpyMode.BARGE]: AgentSpyMode.BARGE,
};

/** callmesh.crm.v1.CallService: thin, the use cases live in domain/. */
export function createCallService(deps: {
  directory: TenantDirectory;
  clickToCall: ReturnType<typeof createClickToCall>;
  calls: CallControl;
}): Partial<ServiceImpl<typeof CallService>> {
  /** The tenant a request acts for, once the key proved it holds `scope` (when one is needed). */
  async function tenantFor(context: HandlerContext, requested: string, scope?: Scope): Promise<string> {
    const principal = principalOf(context);
    if (scope) requireScope(principal, scope);
    return deps.directory.resolveTenant(principal, requested);
  }

  return {
    async clickToCall(request, context) {
      const tenantId = await tenantFor(context, request.tenantId);
      return { callId: await deps.clickToCall(tenantId, request) };
    },

    async hangup({ callId, party, tenantId }, context) {
      const tenant = await tenantFor(context, tenantId, Scope.callsControl);
      await deps.calls.control(tenant, { case: "hangup", value: create(HangupCallSchema, { callId, party }) });
      return {};
    },

    async transfer({ callId, party, destination, mode, tenantId }, context) {
      const tenant = await tenantFor(context, tenantId, Scope.callsControl);
      await deps.calls.control(tenant, {
        case: "transfer",
        value: create(TransferCallSchema, { callId, party, destination, mode: transferModes[mode] }),
      });
      return {};
    },

    async hold({ callId, party, tenantId }, context) {
      const tenant = await tenantFor(context, tenantId, Scope.callsControl);
      await deps.calls.control(tenant, { case: "hold", value: create(HoldCallSchema, { callId, party }) });
      return {};
    },

    async resume({ callId, party, tenantId }, context) {
      const tenant = await tenantFor(context, tenantId, Scope.callsControl);
      await deps.calls.control(tenant, { case: "resume", value: create(ResumeCallSchema, { callId, party }) });
      return {};
    },

    async park({ callId, party, tenantId }, context) {
      const tenant = await tenantFor(context, tenantId, Scope.callsControl);
      const result = await deps.calls.control(tenant, {
        case: "park",
        value: create(ParkCallSchema, { callId, party }),
      });
      return { parkedAt: result.detail.case === "parkedAt" ? result.detail.value : "" };
    },

    async sendDtmf({ callId, digits, party, tenantId }, context) {
      const tenant = await tenantFor(context, tenantId, Scope.callsControl);
      await deps.calls.control(tenant, { case: "sendDtmf", value: create(SendDtmfSchema, { callId, digits, party }) });
      return {};
    },

    async addToConference({ callId, room, tenantId }, context) {
      const tenant = await tenantFor(context, tenantId, Scope.callsControl);
      await deps.calls.control(tenant, {
        case: "addToConference",
        value: create(AddToConferenceSchema, { callId, room }),
      });
      return {};
    },

    async spy({ callId, supervisor, mode, party, tenantId }, context) {
      const tenant = await tenantFor(context, tenantId, Scope.callsSupervise);
      // The supervisor's call carries an id of ours, as a click-to-call does: Hangup ends it.
      const spyCallId = randomUUID();
      await deps.calls.control(tenant, {
        case: "spy",
        value: create(SpyCallSchema, { callId, supervisor, party, mode: spyModes[mode], spyCallId }),
      });
      return { spyCallId };
    },

    async intercept({ callId, extension, tenantId }, context) {
      const tenant = await tenantFor(context, tenantId, Scope.callsSupervise);
      await deps.calls.control(tenant, {
        case: "intercept",
        value: create(InterceptCallSchema, { callId, extension }),
      });
      return {};
    },

    async listActiveCalls({ extension, tenantId }, context) {
      const tenant = await tenantFor(context, tenantId);
      const { items, unanswered } = await deps.calls.listActiveCalls(tenant, extension);
      return { calls: items, unansweredAgents: unanswered };
    },

    async getCall({ callId, tenantId }, context) {
      const tenant = await tenantFor(context, tenantId);
      return { call: await deps.calls.getCall(tenant, callId) };
    },
  };
}
