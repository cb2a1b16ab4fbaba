// Makes WINDOWS windows (default 100,000) through the probed handlers, 50 in flight at a time.
import { handle, render } from './lib.mjs';

const total = Number(process.env.WINDOWS ?? 100_000);
const handled = Math.round(total * (10 / 11));
for (let i = 0; i < handled; i += 50) {
  const batch = [];
  for (let j = i; j < Math.min(handled, i + 50); j++) batch.push(handle(j));
  await Promise.all(batch);
  for (let j = i; j < Math.min(handled, i + 50); j += 10) render(j);
}
