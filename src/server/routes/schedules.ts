import { createRoute, z } from "@hono/zod-openapi";
import { CairnError } from "../../core/errors.ts";
import type { ScheduleInfo } from "../../engine/schedules-api.ts";
import { apiRoute } from "../api-route.ts";
import { identifier } from "../schemas.ts";

const Schedule = z
  .object({
    id: z.string(),
    workflow: z.string(),
    cron: z.string(),
    tz: z.string(),
    input: z.unknown().optional(),
    overlap: z.enum(["skip", "queue", "allow"]),
    catchup: z.enum(["none", "latest", "all"]),
    paused: z.boolean(),
    nextAt: z.string().openapi({ format: "date-time" }),
    source: z.enum(["trigger", "api"]),
    createdAt: z.string().openapi({ format: "date-time" }),
    updatedAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("Schedule");

const ScheduleBody = z
  .strictObject({
    id: identifier("schedule id").optional(),
    workflow: identifier("workflow name"),
    cron: z.string().min(1).max(200),
    tz: z.string().min(1).max(100).optional(),
    input: z.unknown().optional(),
    overlap: z.enum(["skip", "queue", "allow"]).optional(),
    catchup: z.enum(["none", "latest", "all"]).optional(),
    paused: z.boolean().optional(),
  })
  .openapi("CreateSchedule");

const ScheduleIdParam = z.object({
  id: identifier("schedule id").openapi({
    param: { name: "id", in: "path" },
    example: "hourly-etl",
  }),
});

const BackfillBody = z
  .strictObject({
    from: z.string().datetime({ offset: true }).or(z.string().date()),
    to: z.string().datetime({ offset: true }).or(z.string().date()),
  })
  .openapi("Backfill");

const json = (schema: z.ZodType) => ({ "application/json": { schema } });

function toScheduleWire(schedule: ScheduleInfo): z.infer<typeof Schedule> {
  return {
    ...schedule,
    nextAt: schedule.nextAt.toISOString(),
    createdAt: schedule.createdAt.toISOString(),
    updatedAt: schedule.updatedAt.toISOString(),
  };
}

export const listSchedules = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/schedules",
    tags: ["schedules"],
    summary: "List schedules",
    responses: {
      200: {
        description: "Every schedule",
        content: json(z.object({ schedules: z.array(Schedule) })),
      },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) =>
      c.json({ schedules: (await cairn.schedules.list()).map(toScheduleWire) }, 200),
});

export const createSchedule = apiRoute({
  policy: "operator",
  body: "required",
  route: createRoute({
    method: "post",
    path: "/api/v1/schedules",
    tags: ["schedules"],
    summary: "Create or replace a schedule",
    description:
      "A cron schedule (5 or 6 fields, IANA time zone) over a workflow some worker registered. Overlap: skip | queue | allow; catch-up after downtime: none | latest | all.",
    request: {
      body: { required: true, content: { "application/json": { schema: ScheduleBody } } },
    },
    responses: { 201: { description: "The schedule", content: json(Schedule) } },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const body = c.req.valid("json");
      return c.json(toScheduleWire(await cairn.schedules.create(body)), 201);
    },
});

export const getSchedule = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/schedules/{id}",
    tags: ["schedules"],
    summary: "A schedule with its next fire times",
    request: { params: ScheduleIdParam },
    responses: {
      200: {
        description: "The schedule",
        content: json(Schedule.extend({ nextFires: z.array(z.string()) })),
      },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { id } = c.req.valid("param");
      const schedule = await cairn.schedules.get(id);
      const nextFires = (await cairn.schedules.preview(id, 5)).map((d) => d.toISOString());
      return c.json({ ...toScheduleWire(schedule), nextFires }, 200);
    },
});

function pauseOrResume(action: "pause" | "resume") {
  return apiRoute({
    policy: "operator",
    route: createRoute({
      method: "post",
      path: `/api/v1/schedules/{id}/${action}`,
      tags: ["schedules"],
      summary: action === "pause" ? "Pause a schedule" : "Resume a schedule",
      request: { params: ScheduleIdParam },
      responses: { 200: { description: "The schedule", content: json(Schedule) } },
    }),
    handler:
      ({ cairn }) =>
      async (c) => {
        const { id } = c.req.valid("param");
        return c.json(toScheduleWire(await cairn.schedules[action](id)), 200);
      },
  });
}

export const pauseSchedule = pauseOrResume("pause");
export const resumeSchedule = pauseOrResume("resume");

export const backfillSchedule = apiRoute({
  policy: "operator",
  body: "required",
  route: createRoute({
    method: "post",
    path: "/api/v1/schedules/{id}/backfill",
    tags: ["schedules"],
    summary: "Create one run per slot in [from, to)",
    request: {
      params: ScheduleIdParam,
      body: { required: true, content: { "application/json": { schema: BackfillBody } } },
    },
    responses: {
      200: {
        description: "Slots in range and the runs created (existing slots are left alone)",
        content: json(z.object({ slots: z.number().int(), created: z.array(z.string()) })),
      },
      422: {
        description:
          "The range holds more slots than one backfill may create (100,000); nothing was created",
      },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { id } = c.req.valid("param");
      const { from, to } = c.req.valid("json");
      const result = await cairn.schedules.backfill(id, { from: new Date(from), to: new Date(to) });
      return c.json({ slots: result.slots, created: [...result.created] }, 200);
    },
});

export const deleteSchedule = apiRoute({
  policy: "operator",
  route: createRoute({
    method: "delete",
    path: "/api/v1/schedules/{id}",
    tags: ["schedules"],
    summary: "Delete a schedule (its runs stay)",
    request: { params: ScheduleIdParam },
    responses: {
      200: { description: "Deleted", content: json(z.object({ deleted: z.literal(true) })) },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { id } = c.req.valid("param");
      if (!(await cairn.schedules.delete(id))) {
        throw new CairnError("NOT_FOUND", `No schedule with id "${id}".`);
      }
      return c.json({ deleted: true as const }, 200);
    },
});
