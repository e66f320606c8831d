/// Sent toward the ``ConnectionGuardHandler`` (an outbound user event) when a response has
/// been written to the socket: the next request gets a fresh budget and deadline.
package struct ResponseWritten {
    package init() {}
}

/// Sent toward the guard when a request waits for the client to read earlier answers: no
/// new byte would start the deadline, so this starts it.
package struct AnswerWaiting {
    package init() {}
}

/// Sent toward the guard when a request's head has been parsed: the header deadline and
/// header byte limit no longer apply to it.
package struct HeadReceived {
    package init() {}
}

/// Sent toward the guard when a whole request has arrived: reading it is done, so its
/// deadline stops (answering it may take longer, e.g. a scripted slow receiver).
package struct RequestReceived {
    package init() {}
}
