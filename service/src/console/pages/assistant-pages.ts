import { createRouter } from "../../http/router";
import type { ConsoleDeps } from "../deps";
import { assistantPage } from "./assistant-page";
import { knowledgeEditPage, knowledgeListPage, knowledgePreview } from "./knowledge-pages";
import { widgetPage, widgetPreviewPage } from "./widget-page";

/** The tenant admins' pages about the assistant itself: its prompt, its knowledge and its widget. */
export function assistantPages(deps: ConsoleDeps) {
  const app = createRouter();
  app.get("/console/t/:tenantId/assistant", (c) => assistantPage(c, deps));
  app.get("/console/t/:tenantId/knowledge", (c) => knowledgeListPage(c, deps));
  app.get("/console/t/:tenantId/knowledge/:slug", (c) => knowledgeEditPage(c, deps));
  app.post("/console/t/:tenantId/knowledge-preview", (c) => knowledgePreview(c, deps));
  app.get("/console/t/:tenantId/widget", (c) => widgetPage(c, deps));
  app.get("/console/t/:tenantId/widget/preview", (c) => widgetPreviewPage(c, deps));
  return app;
}
