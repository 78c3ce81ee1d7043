// skilltrace guard plugin for OpenCode.
// Written by `skilltrace guard install --agent opencode`; `skilltrace guard
// uninstall --agent opencode` removes it. Edits here are lost on the next install.
// command: __SKILLTRACE_COMMAND_LINE__
//
// Before every tool call OpenCode runs `tool.execute.before`; this hands the
// call to the guard and throws its reason when the guard refuses, which stops
// the call. After a call it hands the result over, so the guard's records see
// it, and so does the user's message (chat.message). If the guard cannot be run, fails or is slow, the call goes ahead and
// one warning line says why (the guard fails open).
import { spawn } from "node:child_process"

const COMMAND = __SKILLTRACE_COMMAND__
const TIMEOUT_MS = 30000

function warn(why) {
  console.error(`warning: skilltrace guard: ${why}; the call goes ahead (fail-open)`)
}

function judge(event, input, output, directory) {
  let body
  try {
    body = JSON.stringify({ hook_event_name: event, input, output, directory })
  } catch (e) {
    warn(`cannot send the event (${e && e.message})`)
    return Promise.resolve(null)
  }
  return new Promise((resolve) => {
    // One answer per call, and one warning at most: a failed spawn reports
    // both "error" and "close", a timed-out one is killed and then closes.
    let done = false
    const finish = (answer) => {
      if (!done) {
        done = true
        resolve(answer)
      }
    }
    const fail = (why) => {
      if (!done) {
        warn(why)
        finish(null)
      }
    }
    let child
    try {
      child = spawn(COMMAND[0], COMMAND.slice(1), { stdio: ["pipe", "pipe", "pipe"] })
    } catch (e) {
      return fail(`cannot run ${COMMAND[0]} (${e && e.message})`)
    }
    const out = []
    const timer = setTimeout(() => {
      fail(`no answer within ${TIMEOUT_MS} ms`)
      child.kill()
    }, TIMEOUT_MS)
    child.stdout.on("data", (d) => out.push(d))
    child.stderr.on("data", () => {})
    child.on("error", (e) => {
      clearTimeout(timer)
      fail(`cannot run ${COMMAND[0]} (${e && e.message})`)
    })
    child.on("close", (code) => {
      clearTimeout(timer)
      if (code !== 0) {
        return fail(`it exited with ${code}`)
      }
      const text = Buffer.concat(out).toString("utf8").trim()
      try {
        finish(text ? JSON.parse(text) : null)
      } catch (e) {
        fail("its answer is not JSON")
      }
    })
    child.stdin.on("error", () => {})
    child.stdin.end(body)
  })
}

export const SkilltraceGuard = async ({ directory }) => ({
  "tool.execute.before": async (input, output) => {
    const answer = await judge("tool.execute.before", input, output, directory)
    if (answer && answer.decision === "deny") {
      throw new Error(answer.reason || "skilltrace guard refused this call")
    }
  },
  "tool.execute.after": async (input, output) => {
    await judge("tool.execute.after", input, output, directory)
  },
  // The user's message: recorded and scanned (a secret typed here is
  // remembered, so a later call sending it is refused), never refused itself.
  "chat.message": async (input, output) => {
    await judge("chat.message", input, output, directory)
  },
})
