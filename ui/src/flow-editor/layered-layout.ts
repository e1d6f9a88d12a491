import type { FlowGraph, GraphNode } from "./flow-graph.ts";
import type { FlowLayout } from "./flow-layout.ts";

/**
 * A layered left-to-right layout in linear-ish time, for flows too large for ELK to lay out
 * within the editor's budget: each group is laid out on its own (inner steps first), then
 * sits in its scope as one box. Within a scope, a step's layer is its longest path from a
 * step with no dependency; layers are ordered by barycenter sweeps (no dummy nodes, so an
 * edge that skips layers pulls on its ends directly) and stacked with each box pulled
 * toward its neighbours' centres.
 */

export interface LayeredOptions {
  stepWidth: number;
  stepHeight: number;
  groupHeader: number;
  groupPadding: number;
  layerGap: number;
  nodeGap: number;
}

/** One box of a scope while it is laid out. */
interface Cell {
  id: string;
  width: number;
  height: number;
  layer: number;
  order: number;
  y: number;
  preds: Cell[];
  succs: Cell[];
}

const sweeps = 4;
const placementRounds = 4;

export function layeredLayout(graph: FlowGraph, options: LayeredOptions): FlowLayout {
  const children = new Map<string, GraphNode[]>();
  for (const node of graph.nodes) {
    const key = node.parentId ?? "";
    const list = children.get(key);
    if (list) list.push(node);
    else children.set(key, [node]);
  }
  const parents = new Map(graph.nodes.map((node) => [node.id, node.parentId ?? ""]));
  // Each edge joins the two boxes of the innermost scope holding both ends: an edge into a
  // group's inner step pulls on the group as a whole in the outer scope.
  const scopeEdges = new Map<string, [string, string][]>();
  for (const edge of [...graph.edges, ...graph.dataEdges]) {
    const lifted = liftToCommonScope(edge.source, edge.target, parents);
    if (!lifted) continue;
    const list = scopeEdges.get(lifted.scope);
    if (list) list.push([lifted.source, lifted.target]);
    else scopeEdges.set(lifted.scope, [[lifted.source, lifted.target]]);
  }

  const layout: FlowLayout = new Map();
  const layoutScope = (scope: string): { width: number; height: number } => {
    const cells = (children.get(scope) ?? []).map((node): Cell => {
      const cell: Cell = {
        id: node.id,
        width: options.stepWidth,
        height: options.stepHeight,
        layer: 0,
        order: 0,
        y: 0,
        preds: [],
        succs: [],
      };
      if (node.isGroup) {
        const size = layoutScope(node.id);
        const empty = size.width === 0;
        cell.width = empty ? options.stepWidth : size.width + 2 * options.groupPadding;
        cell.height = empty
          ? options.stepHeight + options.groupHeader
          : size.height + options.groupHeader + options.groupPadding;
      }
      return cell;
    });
    if (cells.length === 0) return { width: 0, height: 0 };
    const byId = new Map(cells.map((cell) => [cell.id, cell]));
    for (const [source, target] of scopeEdges.get(scope) ?? []) {
      const from = byId.get(source);
      const to = byId.get(target);
      if (!from || !to || from === to) continue;
      from.succs.push(to);
      to.preds.push(from);
    }
    const layers = assignLayers(cells);
    orderLayers(layers);
    const size = placeCells(layers, options);
    // Inner boxes are relative to the group, below its title bar.
    const offsetX = scope === "" ? 0 : options.groupPadding;
    const offsetY = scope === "" ? 0 : options.groupHeader;
    let x = 0;
    for (const layer of layers) {
      const layerWidth = Math.max(...layer.map((cell) => cell.width));
      for (const cell of layer) {
        layout.set(cell.id, {
          x: offsetX + x + (layerWidth - cell.width) / 2,
          y: offsetY + cell.y,
          width: cell.width,
          height: cell.height,
        });
      }
      x += layerWidth + options.layerGap;
    }
    return size;
  };
  layoutScope("");
  return layout;
}

/** The boxes an edge joins in the innermost scope holding both its ends, and that scope. */
function liftToCommonScope(
  source: string,
  target: string,
  parents: Map<string, string>,
): { scope: string; source: string; target: string } | undefined {
  const chainOf = (id: string) => {
    const chain = [id];
    for (let p = parents.get(id); p !== undefined && p !== ""; p = parents.get(p)) chain.push(p);
    return chain;
  };
  const sourceChain = chainOf(source);
  const targetChain = chainOf(target);
  for (const s of sourceChain) {
    const scope = parents.get(s) ?? "";
    const t = targetChain.find((candidate) => (parents.get(candidate) ?? "") === scope);
    if (t !== undefined) return s === t ? undefined : { scope, source: s, target: t };
  }
  return undefined;
}

/**
 * Longest path from the scope's sources, in document order. A cycle (which validation
 * reports) is cut where it is met: a box whose predecessors never all come gets the layer
 * after those that did.
 */
function assignLayers(cells: Cell[]): Cell[][] {
  const waiting = new Map(cells.map((cell) => [cell, cell.preds.length]));
  const queue = cells.filter((cell) => cell.preds.length === 0);
  const placed = new Set<Cell>();
  const place = (cell: Cell) => {
    placed.add(cell);
    for (const next of cell.succs) {
      next.layer = Math.max(next.layer, cell.layer + 1);
      const left = (waiting.get(next) ?? 0) - 1;
      waiting.set(next, left);
      if (left === 0) queue.push(next);
    }
  };
  for (let head = 0; placed.size < cells.length; ) {
    if (head < queue.length) {
      const cell = queue[head++] as Cell;
      if (!placed.has(cell)) place(cell);
      continue;
    }
    const stuck = cells.find((cell) => !placed.has(cell)) as Cell;
    queue.push(stuck);
  }
  const layers: Cell[][] = [];
  for (const cell of cells) {
    const layer = layers[cell.layer];
    if (layer) layer.push(cell);
    else layers[cell.layer] = [cell];
  }
  const dense = layers.filter((layer) => layer !== undefined);
  for (const [index, layer] of dense.entries()) {
    for (const [order, cell] of layer.entries()) {
      cell.layer = index;
      cell.order = order;
    }
  }
  return dense;
}

/** Barycenter sweeps, down then up, keeping the order with the fewest crossings. */
function orderLayers(layers: Cell[][]): void {
  const snapshot = () => layers.map((layer) => [...layer]);
  let best = snapshot();
  let bestCrossings = countCrossings(layers);
  for (let sweep = 0; sweep < sweeps && bestCrossings > 0; sweep++) {
    const down = sweep % 2 === 0;
    const range = down
      ? layers.map((_, i) => i).slice(1)
      : layers
          .map((_, i) => i)
          .reverse()
          .slice(1);
    for (const index of range) {
      const layer = layers[index] as Cell[];
      const weight = new Map<Cell, number>();
      for (const cell of layer) {
        const neighbours = (down ? cell.preds : cell.succs).filter(
          (other) => other.layer !== cell.layer,
        );
        weight.set(
          cell,
          neighbours.length === 0
            ? cell.order
            : neighbours.reduce((sum, other) => sum + other.order, 0) / neighbours.length,
        );
      }
      layer.sort((a, b) => (weight.get(a) as number) - (weight.get(b) as number));
      for (const [order, cell] of layer.entries()) cell.order = order;
    }
    const crossings = countCrossings(layers);
    if (crossings < bestCrossings) {
      bestCrossings = crossings;
      best = snapshot();
    }
  }
  for (const [index, layer] of best.entries()) {
    layers[index] = layer;
    for (const [order, cell] of layer.entries()) cell.order = order;
  }
}

/** Crossings between the edges joining each pair of adjacent layers. */
function countCrossings(layers: Cell[][]): number {
  let total = 0;
  for (const layer of layers) {
    const ends: [number, number][] = [];
    for (const cell of layer) {
      for (const next of cell.succs) {
        if (next.layer === cell.layer + 1) ends.push([cell.order, next.order]);
      }
    }
    ends.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let i = 0; i < ends.length; i++) {
      const [a1, b1] = ends[i] as [number, number];
      for (let j = i + 1; j < ends.length; j++) {
        const [a2, b2] = ends[j] as [number, number];
        if (a2 > a1 && b2 < b1) total++;
      }
    }
  }
  return total;
}

/**
 * Stacks each layer in its order, then pulls every box toward the mean centre of its
 * neighbours, alternating directions; order and gaps are kept. Returns the scope's size.
 */
function placeCells(layers: Cell[][], options: LayeredOptions): { width: number; height: number } {
  for (const layer of layers) {
    let y = 0;
    for (const cell of layer) {
      cell.y = y;
      y += cell.height + options.nodeGap;
    }
  }
  const centre = (cell: Cell) => cell.y + cell.height / 2;
  for (let round = 0; round < placementRounds; round++) {
    const down = round % 2 === 0;
    const order = down ? layers : [...layers].reverse();
    for (const layer of order) {
      const wanted = layer.map((cell) => {
        const neighbours = down ? cell.preds : cell.succs;
        if (neighbours.length === 0) return cell.y;
        const mean = neighbours.reduce((sum, other) => sum + centre(other), 0) / neighbours.length;
        return mean - cell.height / 2;
      });
      packInOrder(layer, wanted, options.nodeGap);
    }
  }
  let top = Number.POSITIVE_INFINITY;
  let bottom = Number.NEGATIVE_INFINITY;
  for (const layer of layers) {
    for (const cell of layer) {
      top = Math.min(top, cell.y);
      bottom = Math.max(bottom, cell.y + cell.height);
    }
  }
  for (const layer of layers) for (const cell of layer) cell.y -= top;
  const width =
    layers.reduce((sum, layer) => sum + Math.max(...layer.map((cell) => cell.width)), 0) +
    options.layerGap * (layers.length - 1);
  return { width, height: bottom - top };
}

/**
 * Puts a layer's boxes as near their wanted tops as their order and gaps allow: each box
 * pushed below the one before it, then the whole run of boxes shifted so that, on average,
 * they sit where they want to be.
 */
function packInOrder(layer: Cell[], wanted: number[], gap: number): void {
  let floor = Number.NEGATIVE_INFINITY;
  let drift = 0;
  layer.forEach((cell, i) => {
    cell.y = Math.max(wanted[i] as number, floor);
    drift += cell.y - (wanted[i] as number);
    floor = cell.y + cell.height + gap;
  });
  const shift = drift / layer.length;
  for (const cell of layer) cell.y -= shift;
}
