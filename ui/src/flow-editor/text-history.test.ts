import { describe, expect, it } from "vitest";
import { pushText, redo, startHistory, undo } from "./text-history.ts";

describe("text history", () => {
  it("undoes and redoes graph edits one by one, and typing bursts as one", () => {
    let h = startHistory("a");
    h = pushText(h, "ab", "graph", 0);
    h = pushText(h, "abc", "yaml", 10);
    h = pushText(h, "abcd", "yaml", 20);
    h = undo(h);
    expect(h.present).toBe("ab");
    h = undo(h);
    expect(h.present).toBe("a");
    expect(undo(h).present).toBe("a");
    h = redo(redo(h));
    expect(h.present).toBe("abcd");
    h = pushText(undo(h), "x", "graph", 5000);
    expect(h.future).toEqual([]);
  });
});
