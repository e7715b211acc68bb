package io.sluice.node.provider;

import io.sluice.node.inference.chat.Usage;
import org.apache.pekko.util.ByteString;

/**
 * Follows a streamed body that passes through untranslated (client and upstream speak the same
 * protocol): it hands on the bytes as they come, whole events at a time, and reads the usage out
 * of them on the way. Stateful and not thread-safe: one per stream.
 */
public interface StreamTap {

  /** The bytes to pass on for {@code chunk}: every event it completes (less any the tap drops). */
  ByteString onChunk(ByteString chunk);

  /** The body ended: whatever is left (an unterminated last event), passed on as it is. */
  ByteString flush();

  /** The usage the stream reported so far, or null when it reported none. */
  Usage usage();

  /** Events that carried generated text: the estimate of output tokens when no usage came. */
  long contentChunks();
}
