package io.sluice.node.inference.chat;

/**
 * One piece of a turn or of a response. Sealed so that every codec handles every kind, or says
 * at compile time that it does not.
 */
public sealed interface Part {

  /** Plain text. */
  record Text(String text) implements Part {}

  /**
   * An image, either inline ({@code data} base64 with its {@code mediaType}) or by {@code url};
   * exactly one of {@code data} and {@code url} is set.
   */
  record Image(String mediaType, String data, String url) implements Part {
    public static Image inline(String mediaType, String base64) {
      return new Image(mediaType, base64, null);
    }

    public static Image ofUrl(String url) {
      return new Image(null, null, url);
    }
  }

  /**
   * The model calling a tool (in an assistant turn or a response).
   *
   * @param arguments the arguments as JSON text, as OpenAI carries them
   */
  record ToolCall(String id, String name, String arguments) implements Part {}

  /**
   * A tool's answer to an earlier call (in a user turn).
   *
   * @param name the tool's name when the client gave it, else null (Gemini needs it: its codec
   *     recovers it from the call with the same id)
   * @param content the result as text
   */
  record ToolResult(String callId, String name, String content, boolean error) implements Part {}
}
