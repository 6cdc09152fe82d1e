import { z } from 'zod';

export const databaseEnv = z.object({
  DATABASE_URL: z.string().min(1).default('sqlite:./data/sms.sqlite'),
});
