import type { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { SendSmsInput, SendSmsResult } from '../activities/send';
import { PROVIDER_NAMES } from '../domain/enums';
import { errorLabel, type Metrics, type SendOutcome } from '../runtime/metrics';

/**
 * Counts what activities finish with, without touching their bodies: every sendSms attempt by
 * provider and outcome (with its duration), and the provider_error opt-outs recordProviderOptOut
 * acknowledges. Measured per attempt, so a retried send shows each failure it went through.
 */
export function metricsInterceptors(metrics: Metrics): ActivityInterceptorsFactory {
  return (ctx: Context) => ({
    inbound: {
      async execute(input, next) {
        const type = ctx.info.activityType;
        if (type === 'sendSms') return timedSend(metrics, input.args[0] as SendSmsInput, () => next(input));
        const result = await next(input);
        if (type === 'recordProviderOptOut')
          metrics.consentChanges.inc({ direction: 'opt_out', source: 'provider' });
        return result;
      },
    },
  });
}

async function timedSend(
  metrics: Metrics,
  input: SendSmsInput,
  run: () => Promise<unknown>,
): Promise<unknown> {
  // The provider comes from the workflow: bounded by the enum, whatever the input says.
  const provider = (PROVIDER_NAMES as readonly string[]).includes(input?.provider)
    ? input.provider
    : 'unknown';
  const stop = metrics.sendDuration.startTimer();
  let outcome: SendOutcome = 'error';
  try {
    const result = (await run()) as SendSmsResult;
    outcome = sendOutcome(result);
    return result;
  } catch (err) {
    outcome = failureOutcome(err);
    throw err;
  } finally {
    stop({ provider, outcome });
    metrics.sends.inc({ provider, outcome });
  }
}

function sendOutcome(result: SendSmsResult): SendOutcome {
  if (result.kind === 'sent') return result.reconciled ? 'reconciled' : 'sent';
  if (result.kind === 'paused') return 'paused';
  return result.outcome;
}

function failureOutcome(err: unknown): SendOutcome {
  // A timed-out attempt, or a worker shutting down, ends with the cancellation.
  if (err instanceof CancelledFailure) return 'cancelled';
  if (err instanceof ApplicationFailure) return errorLabel(err.type);
  return 'error';
}
