CREATE TABLE "event_log" (
	"offset" bigserial PRIMARY KEY NOT NULL,
	"topic" text NOT NULL,
	"key" text NOT NULL,
	"record_id" text NOT NULL,
	"value" "bytea" NOT NULL,
	"headers" jsonb,
	"appended_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "event_log_offsets" (
	"group" text NOT NULL,
	"topic" text NOT NULL,
	"offset" bigint NOT NULL,
	CONSTRAINT "event_log_offsets_group_topic_pk" PRIMARY KEY("group","topic")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "event_log_topic_record_id" ON "event_log" USING btree ("topic","record_id");--> statement-breakpoint
CREATE INDEX "event_log_topic_offset" ON "event_log" USING btree ("topic","offset");