import { LOCAL_API_TOKEN, loadConfigOrExit } from '../config';
import { createRepositories } from '../db';
import { createKnex } from '../db/knex';
import { normalizePhone } from '../domain/phone';
import { postSimulatedReply, venueSimulatorNumber } from './simulated-reply';

/**
 * `npm run sms:reply -- <venueId> <phone> <text…>`: plays a customer texting the venue's simulator
 * number (STOP, START, HELP, anything) against the running API, signed with SIMULATOR_WEBHOOK_SECRET.
 */
async function main(): Promise<void> {
  const [venueArg, phoneArg, ...words] = process.argv.slice(2);
  const venueId = Number(venueArg);
  if (!Number.isInteger(venueId) || venueId < 1 || !phoneArg || words.length === 0) {
    throw new Error('usage: npm run sms:reply -- <venueId> <phone> <text…>   e.g. 4242 +14155552671 STOP');
  }
  const config = loadConfigOrExit();
  if (!config.simulator.webhookSecret) {
    throw new Error(
      'SIMULATOR_WEBHOOK_SECRET is not set (production has no default): the API would refuse the reply',
    );
  }
  const phone = normalizePhone(phoneArg, config.sms.defaultPhoneRegion);
  if (!phone.ok) throw new Error(`phone ${phone.error}`);

  const knex = createKnex(config.databaseUrl, config.databaseAuth);
  let to: string;
  try {
    to = await venueSimulatorNumber(createRepositories(knex).venueNumbers, venueId);
  } finally {
    await knex.destroy();
  }
  const text = words.join(' ');
  const result = await postSimulatedReply({
    baseUrl: config.api.publicBaseUrl,
    secret: config.simulator.webhookSecret,
    from: phone.e164,
    to,
    text,
  });
  console.log(`POST ${config.api.publicBaseUrl}/webhooks/simulator → ${result.status} ${result.body}`);
  if (result.status !== 200) process.exitCode = 1;
  else
    console.log(
      `consent: curl -H 'authorization: Bearer ${config.api.token === LOCAL_API_TOKEN ? LOCAL_API_TOKEN : '$API_TOKEN'}' ${config.api.publicBaseUrl}/api/consent/${venueId}/${encodeURIComponent(phone.e164)}`,
    );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
