// localbus's Node.js runtime: the loop Lambda's runtime interface client runs, over the
// Lambda Runtime API (AWS_LAMBDA_RUNTIME_API): import the handler (CommonJS or ES module),
// then for each invocation: GET next, run the handler, POST its response or error.
// The AWS SDK for JavaScript v3 comes from the function's own node_modules, else from
// LOCALBUS_NODE_MODULES (localbus's pinned install), as Lambda's runtime provides it.
import { existsSync, readFileSync } from "node:fs";
import { register } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { format } from "node:util";

const API = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;
const TASK_ROOT = process.env.LAMBDA_TASK_ROOT;
const HANDLER = process.env._HANDLER || "";
const RUNTIME = (process.env.AWS_EXECUTION_ENV || "").replace("AWS_Lambda_", "");
const SDK_MODULES = process.env.LOCALBUS_NODE_MODULES;

if (SDK_MODULES && typeof register === "function") {  // module.register: Node >= 18.19
  // ES modules ignore NODE_PATH: a resolve hook falls back to the SDK install instead.
  register("./resolve_sdk.mjs", import.meta.url, { data: { modules: SDK_MODULES } });
}

let requestId = "";
for (const [method, level] of [["log", "INFO"], ["info", "INFO"], ["warn", "WARN"],
  ["error", "ERROR"], ["debug", "DEBUG"], ["trace", "TRACE"]]) {
  // Lambda's text log format: time, request id, level, message.
  console[method] = (...args) => {
    process.stdout.write(`${new Date().toISOString()}\t${requestId}\t${level}\t${format(...args)}\n`);
  };
}

function errorDocument(error, fallbackType) {
  if (error instanceof Error) {
    return {
      errorType: error.name && error.name !== "Error" ? error.name : (error.constructor?.name || fallbackType),
      errorMessage: error.message,
      trace: String(error.stack || "").split("\n"),
    };
  }
  return { errorType: fallbackType, errorMessage: typeof error === "string" ? error : JSON.stringify(error), trace: [] };
}

async function post(url, body, errorType) {
  const headers = { "content-type": "application/json" };
  if (errorType) headers["Lambda-Runtime-Function-Error-Type"] = errorType;
  await fetch(url, { method: "POST", headers, body });
}

function isModule(file) {
  if (file.endsWith(".mjs")) return true;
  if (file.endsWith(".cjs")) return false;
  // A .js file is an ES module when the nearest package.json says "type": "module".
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest)) {
      try { return JSON.parse(readFileSync(manifest, "utf8")).type === "module"; } catch { return false; }
    }
    if (dir === path.dirname(dir) || dir === path.dirname(TASK_ROOT)) return false;
  }
}

async function loadHandler() {
  const dot = HANDLER.lastIndexOf(".");
  if (dot <= 0) {
    throw Object.assign(new Error(`Bad handler ${HANDLER}`), { name: "Runtime.MalformedHandlerName" });
  }
  const modulePath = HANDLER.slice(0, dot);
  const names = HANDLER.slice(dot + 1).split(".");
  const base = path.resolve(TASK_ROOT, modulePath);
  const file = [".js", ".mjs", ".cjs"].map((ext) => base + ext).find((f) => existsSync(f));
  if (!file) {
    throw Object.assign(new Error(`Cannot find module '${modulePath}'`), { name: "Runtime.ImportModuleError" });
  }
  let loaded;
  try {
    loaded = await import(pathToFileURL(file).href);
  } catch (error) {
    if (error instanceof SyntaxError) error.name = "Runtime.UserCodeSyntaxError";
    else if (error?.code === "ERR_MODULE_NOT_FOUND" || error?.code === "MODULE_NOT_FOUND") {
      error.name = "Runtime.ImportModuleError";
    }
    throw error;
  }
  // CommonJS: module.exports is the default export; ES modules: the named export.
  let handler = isModule(file) ? loaded : (loaded.default ?? loaded);
  for (const name of names) handler = handler?.[name];
  if (typeof handler !== "function") {
    throw Object.assign(new Error(`${modulePath}.${names.join(".")} is undefined or not exported`),
      { name: "Runtime.HandlerNotFound" });
  }
  if (handler.length >= 3 && RUNTIME >= "nodejs24.x") {
    throw Object.assign(new Error(
      "ERROR: AWS Lambda has removed support for callback-based function handlers starting with "
      + "Node.js 24. You need to modify this function to use a supported handler signature to use "
      + "Node.js 24 or later."), { name: "Runtime.CallbackHandlerDeprecated" });
  }
  return handler;
}

function context(headers) {
  const deadline = Number(headers.get("lambda-runtime-deadline-ms"));
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers.get("lambda-runtime-invoked-function-arn"),
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers.get("lambda-runtime-aws-request-id"),
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function run(handler, event, ctx) {
  // async handlers return a promise; callback handlers (nodejs22.x and older) call back.
  return new Promise((resolve, reject) => {
    const callback = (error, result) => (error ? reject(error) : resolve(result));
    ctx.done = callback;
    ctx.succeed = (result) => resolve(result);
    ctx.fail = (error) => reject(error);
    try {
      const returned = handler(event, ctx, callback);
      if (returned && typeof returned.then === "function") returned.then(resolve, reject);
      else if (handler.length < 3) resolve(returned);
    } catch (error) {
      reject(error);
    }
  });
}

let handler;
try {
  handler = await loadHandler();
} catch (error) {
  const doc = errorDocument(error, "Runtime.ImportModuleError");
  console.error(`${doc.errorType}: ${doc.errorMessage}`);
  await post(`${API}/init/error`, JSON.stringify(doc), doc.errorType);
  process.exit(1);
}

for (;;) {
  const next = await fetch(`${API}/invocation/next`);
  const headers = next.headers;
  requestId = headers.get("lambda-runtime-aws-request-id");
  const event = await next.json();
  try {
    const result = await run(handler, event, context(headers));
    let body;
    try {
      body = JSON.stringify(result === undefined ? null : result);
    } catch (error) {
      throw Object.assign(error, { name: "Runtime.JSONStringifyError" });
    }
    await post(`${API}/invocation/${requestId}/response`, body);
  } catch (error) {
    const doc = errorDocument(error, "Error");
    console.error(`Invoke Error \t${JSON.stringify(doc)}`);
    await post(`${API}/invocation/${requestId}/error`, JSON.stringify(doc), doc.errorType);
  }
}
