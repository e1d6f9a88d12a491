/** ≥ 40 bad flow documents and a fragment of the error each must produce. */
export const poisonFlows: { source: string; error: RegExp }[] = [
  { source: "", error: /source/ },
  { source: "just a string", error: /\(document\)/ },
  { source: "[1, 2]", error: /\(document\)/ },
  { source: "{ not json", error: /not valid json/ },
  { source: "name: [unclosed", error: /not valid yaml/ },
  { source: "name: x", error: /steps/ },
  { source: "steps: [{ id: a, sleep: 1s }]", error: /name/ },
  { source: "name: x\nsteps: []", error: /steps/ },
  { source: "name: 'bad name!'\nsteps: [{ id: a, sleep: 1s }]", error: /name: a flow name/ },
  { source: "name: x\nsteps: [{ id: A, sleep: 1s }]", error: /steps\[0\]\.id/ },
  { source: "name: x\nsteps: [{ sleep: 1s }]", error: /steps\[0\]\.id/ },
  { source: "name: x\nsteps: [{ id: a }]", error: /steps\[0\]: a step needs one of/ },
  { source: "name: x\nsteps: [{ id: a, sleep: 1s, action: b }]", error: /a step has one kind/ },
  {
    source: "name: x\nsteps: [{ id: a, sleep: 1x }]",
    error: /steps\[0\]\.sleep: Invalid duration/,
  },
  { source: "name: x\nsteps: [{ id: a, sleep: 1s, timeout: soon }]", error: /steps\[0\]\.timeout/ },
  {
    source: "name: x\nsteps: [{ id: a, sleep: 1s }, { id: a, sleep: 1s }]",
    error: /steps\[1\]\.id: duplicate step id "a"/,
  },
  {
    source: "name: x\nsteps: [{ id: a, sleep: 1s, needs: [lod] }]",
    error: /steps\[0\]\.needs: unknown step "lod"/,
  },
  {
    source: "name: x\nsteps: [{ id: a, sleep: 1s, needs: [b] }, { id: b, sleep: 1s, needs: [a] }]",
    error: /cycle: (a → b → a|b → a → b)/,
  },
  { source: "name: x\nsteps: [{ id: a, sleep: 1s, needs: [a] }]", error: /cycle: a → a/ },
  {
    source: "name: x\nsteps: [{ id: a, script: { lang: ruby, source: x } }]",
    error: /steps\[0\]\.script\.lang: unknown language "ruby"/,
  },
  {
    source: "name: x\nsteps: [{ id: a, script: { lang: bash } }]",
    error: /either `source` or `file`/,
  },
  {
    source: "name: x\nsteps: [{ id: a, script: { lang: bash, source: x, file: y.sh } }]",
    error: /either `source` or `file`/,
  },
  {
    source: "name: x\nsteps: [{ id: a, script: { lang: python, file: nowhere.py } }]",
    error: /script\.file: no such file "nowhere\.py"/,
  },
  {
    source: "name: x\nsteps: [{ id: a, action: b, with: { v: '=steps.(' } }]",
    error: /steps\[0\]\.with\.v: cannot parse expression/,
  },
  {
    source: "name: x\nsteps: [{ id: a, action: b, with: { v: '=steps.zz' } }]",
    error: /unknown step "zz"/,
  },
  {
    source: "name: x\nsteps: [{ id: a, action: b, if: 'true' }]",
    error: /steps\[0\]\.if: expected an expression/,
  },
  {
    source: "name: x\nsteps: [{ id: a, action: b, if: '=1 +' }]",
    error: /steps\[0\]\.if: cannot parse/,
  },
  { source: "name: x\nsteps: [{ id: a, action: b, bogus: 1 }]", error: /unknown key "bogus"/ },
  { source: "name: x\nbogus: 1\nsteps: [{ id: a, action: b }]", error: /unknown key "bogus"/ },
  {
    source: "name: x\nsteps: [{ id: a, action: b, retry: { maxAttempts: 0 } }]",
    error: /retry\.maxAttempts/,
  },
  {
    source: "name: x\nsteps: [{ id: a, forEach: { items: [], steps: [] } }]",
    error: /forEach\.steps/,
  },
  {
    source:
      "name: x\nsteps: [{ id: a, forEach: { items: [1], parallelism: 0, steps: [{ id: b, action: c }] } }]",
    error: /parallelism/,
  },
  {
    source:
      "name: x\nsteps: [{ id: a, forEach: { items: '=x.(', steps: [{ id: b, action: c }] } }]",
    error: /forEach\.items: cannot parse/,
  },
  {
    source:
      "name: x\nsteps: [{ id: a, forEach: { items: [1], steps: [{ id: b, action: c, needs: [q] }] } }]",
    error: /steps\[0\]\.forEach\.steps\[0\]\.needs: unknown step "q"/,
  },
  {
    source:
      "name: x\nsteps: [{ id: a, forEach: { items: [1], steps: [{ id: b, action: c }] } }, { id: d, action: e, with: { v: '=steps.b' } }]",
    error: /steps\[1\]\.with\.v: step "b" is not upstream/,
  },
  { source: "name: x\nsteps: [{ id: a, branch: [] }]", error: /branch/ },
  {
    source:
      "name: x\nsteps: [{ id: a, branch: [{ else: true, steps: [{ id: b, action: c }] }, { if: '=true', steps: [{ id: d, action: c }] }] }]",
    error: /`else` must be the last branch/,
  },
  {
    source: "name: x\nsteps: [{ id: a, branch: [{ steps: [{ id: b, action: c }] }] }]",
    error: /a branch needs `if`/,
  },
  {
    source: "name: x\nsteps: [{ id: a, http: { method: FETCH, url: 'https://x' } }]",
    error: /http\.method/,
  },
  { source: "name: x\nsteps: [{ id: a, http: { } }]", error: /http\.url/ },
  { source: "name: x\nsteps: [{ id: a, waitForEvent: { } }]", error: /waitForEvent\.event/ },
  {
    source: "name: x\nsteps: [{ id: a, approval: { timeout: forever } }]",
    error: /approval\.timeout/,
  },
  {
    source: "name: x\ninput: { type: nonsense }\nsteps: [{ id: a, sleep: 1s }]",
    error: /input: not a valid JSON Schema/,
  },
  {
    source:
      "name: x\nconcurrency: { limit: 2, key: '=$uppercase(input.a)' }\nsteps: [{ id: a, sleep: 1s }]",
    error: /concurrency\.key/,
  },
  {
    source: "name: x\ntriggers: [{ cron: '' }]\nsteps: [{ id: a, sleep: 1s }]",
    error: /triggers\[0\]/,
  },
  {
    source: "name: x\nsteps: [{ id: a, sleep: 1s }]\noutput: '=steps.nope'",
    error: /output: unknown step "nope"/,
  },
  {
    source: "name: x\nsteps: [{ id: a, sleep: 1s }]\nonFailure: { with: {} }",
    error: /onFailure\.workflow/,
  },
  { source: "a: &a [*a]", error: /\(document\)/ },
];
