// Worker entry when the library runs from its TypeScript sources (tests, tsx): registers tsx in this thread first.
import { register } from "tsx/esm/api";

register();
const worker = await import("./engine-worker.ts");
export default worker.default;
