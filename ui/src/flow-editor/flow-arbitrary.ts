import fc from "fast-check";
import { type FlowDocument, type FlowStep, scriptLangs } from "./flow-document.ts";

/** Random valid flow documents for property tests: unique ids, `needs` on earlier siblings. */

const text = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.startsWith("="));
const expression = fc.constantFrom("=input.day", "=steps.a.total", "=$count(item)", "=index + 1");
const value = fc.oneof(text, expression, fc.integer(), fc.boolean());

const leafBody = fc.oneof(
  fc.record({
    script: fc.record({
      lang: fc.constantFrom(...scriptLangs),
      source: fc.string({ maxLength: 40 }),
    }),
  }),
  fc.record({ action: text }),
  fc.record({
    http: fc.record({ method: fc.constantFrom("GET", "POST"), url: fc.webUrl() }),
  }),
  fc.record({ workflow: text }),
  fc.record({ sleep: fc.constantFrom("10s", "5m", "1d") }),
  fc.record({ approval: fc.record({ event: text }, { requiredKeys: ["event"] }) }),
  fc.record({ waitForEvent: fc.record({ event: text, timeout: fc.constantFrom("1h", "2d") }) }),
);

const common = fc.record(
  {
    with: fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), value, { maxKeys: 3 }),
    if: expression,
    retry: fc.record({ maxAttempts: fc.integer({ min: 1, max: 9 }) }),
    timeout: fc.constantFrom("30s", "1m"),
  },
  { requiredKeys: [] },
);

type Shape = { body: Record<string, unknown>; inner?: Shape[][]; loop?: boolean; needs: number[] };

const shape: fc.Memo<Shape[]> = fc.memo((depth: number): fc.Arbitrary<Shape[]> => {
  const leaf = fc.record({ body: leafBody, needs: fc.array(fc.nat(), { maxLength: 3 }) });
  const step =
    depth <= 1
      ? leaf
      : fc.oneof(
          { weight: 4, arbitrary: leaf },
          {
            weight: 1,
            arbitrary: fc.record({
              body: fc.constant({}),
              loop: fc.constant(true),
              inner: fc.tuple(shape(depth - 1)),
              needs: fc.array(fc.nat(), { maxLength: 2 }),
            }),
          },
          {
            weight: 1,
            arbitrary: fc.record({
              body: fc.constant({}),
              loop: fc.constant(false),
              inner: fc.array(shape(depth - 1), { minLength: 1, maxLength: 3 }),
              needs: fc.array(fc.nat(), { maxLength: 2 }),
            }),
          },
        );
  return fc.array(step, { maxLength: depth >= 3 ? 6 : 3 });
});

export const flowDocumentArbitrary: fc.Arbitrary<FlowDocument> = fc
  .record({
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
    description: fc.option(text, { nil: undefined }),
    output: fc.option(expression, { nil: undefined }),
    shapes: shape(3),
    extras: fc.array(common, { minLength: 40, maxLength: 40 }),
  })
  .map(({ name, description, output, shapes, extras }) => {
    let counter = 0;
    const build = (list: Shape[]): FlowStep[] => {
      const steps: FlowStep[] = [];
      for (const item of list) {
        const id = `s${counter}`;
        const step: FlowStep = { id, ...(extras[counter % extras.length] ?? {}), ...item.body };
        counter++;
        const earlier = [...new Set(item.needs.filter((n) => n < steps.length))];
        if (earlier.length > 0) step.needs = earlier.map((n) => (steps[n] as FlowStep).id);
        if (item.loop === true) {
          step.forEach = { items: "=input.items", steps: build(item.inner?.[0] ?? []) };
        } else if (item.loop === false) {
          step.branch = (item.inner ?? []).map((arm, i, arms) =>
            i === arms.length - 1 && i > 0
              ? { else: true, steps: build(arm) }
              : { if: `=index = ${i}`, steps: build(arm) },
          );
        }
        steps.push(step);
      }
      return steps;
    };
    const doc: FlowDocument = { name, steps: build(shapes) };
    if (description !== undefined) doc.description = description;
    if (output !== undefined) doc.output = output;
    return doc;
  });
