import "../index.js";
import { app } from "@azure/functions";
import { sweeperHandler } from "../shared/events/handlers.js";

app.timer("sweepStuckOperations", { schedule: "%SWEEPER_SCHEDULE%", handler: sweeperHandler });
