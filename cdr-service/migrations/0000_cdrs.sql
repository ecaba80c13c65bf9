CREATE TABLE "cdrs" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"call_id" text NOT NULL,
	"started_at_ms" bigint NOT NULL,
	"direction" integer NOT NULL,
	"status" integer NOT NULL,
	"extensions" text[] NOT NULL,
	"record" jsonb NOT NULL,
	CONSTRAINT "cdrs_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE INDEX "cdrs_tenant_started" ON "cdrs" USING btree ("tenant_id","started_at_ms" DESC NULLS LAST,"id" DESC NULLS LAST);