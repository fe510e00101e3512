// Resolve hook for bootstrap.mjs: a bare specifier the function's own folders do not provide
// (e.g. "@aws-sdk/client-eventbridge") is looked up in localbus's SDK install instead.
import path from "node:path";
import { pathToFileURL } from "node:url";

let fallbackParent;

export function initialize(data) {
  fallbackParent = pathToFileURL(path.join(data.modules, "..", "localbus-sdk-resolve.mjs")).href;
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const bare = !specifier.startsWith(".") && !specifier.startsWith("/") && !specifier.includes(":");
    if (!bare || error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
    return nextResolve(specifier, { ...context, parentURL: fallbackParent });
  }
}
