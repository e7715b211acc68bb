package io.sluice.node.inference.chat;

/**
 * A client body that a codec cannot translate: the surface answers 400 with {@link #param()}.
 * No stack trace is captured; it is an answer, not a fault.
 */
public final class InvalidChat extends Exception {
  private final String param;

  public InvalidChat(String message, String param) {
    super(message, null, false, false);
    this.param = param;
  }

  /** The offending field's path (for example {@code messages.2.content}), or null. */
  public String param() {
    return param;
  }
}
