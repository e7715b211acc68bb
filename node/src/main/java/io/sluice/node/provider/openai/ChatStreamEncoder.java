package io.sluice.node.provider.openai;

import com.fasterxml.jackson.core.JsonGenerator;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.StreamEncoder;
import io.sluice.node.inference.chat.Usage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;

/**
 * Renders neutral events as OpenAI chat.completion.chunk SSE, the shape OpenAI sends and its SDKs
 * parse: a first chunk whose delta carries the role, one chunk per delta, the finish chunk, then,
 * when the client asked for usage, one usage chunk with empty choices (held to the end, since
 * some upstreams report usage after finishing and the last report counts), then [DONE]. After a
 * {@code Failed} it writes the error event and nothing more: OpenAI's SDKs raise on it.
 */
final class ChatStreamEncoder implements StreamEncoder {
  private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
  private static final ByteString DONE = ByteString.fromString("data: [DONE]\n\n");

  private final boolean includeUsage;
  private final long created;
  private final ByteArrayOutputStream buf = new ByteArrayOutputStream(256);
  private String id;
  private String model;
  private boolean finished;
  private boolean over;
  private Usage usage;

  /** @param created the epoch second every chunk says the completion was created at */
  ChatStreamEncoder(boolean includeUsage, long created) {
    this.includeUsage = includeUsage;
    this.created = created;
  }

  @Override
  public ByteString encode(ChatEvent event) {
    if (over) {
      return ByteString.emptyByteString();
    }
    buf.reset();
    if (event instanceof ChatEvent.Started s) {
      if (id == null) {
        start(s.id(), s.model());
      }
    } else if (event instanceof ChatEvent.TextDelta t) {
      if (!t.text().isEmpty()) {
        startIfNot();
        chunk(g -> g.writeStringField("content", t.text()), null);
      }
    } else if (event instanceof ChatEvent.ToolCallStarted c) {
      startIfNot();
      chunk(g -> toolCall(g, c.index(), true, c.id(), c.name(), ""), null);
    } else if (event instanceof ChatEvent.ToolArgumentsDelta a) {
      startIfNot();
      chunk(g -> toolCall(g, a.index(), false, null, null, a.fragment()), null);
    } else if (event instanceof ChatEvent.Finished f) {
      if (!finished) {
        finished = true;
        startIfNot();
        chunk(g -> {}, ChatWire.finishReason(f.reason()));
      }
    } else if (event instanceof ChatEvent.UsageReported u) {
      usage = u.usage();
    } else if (event instanceof ChatEvent.Failed f) {
      over = true;
      event(g -> {
        g.writeStartObject();
        g.writeObjectFieldStart("error");
        g.writeStringField("message", f.message() == null ? "The upstream failed." : f.message());
        g.writeStringField("type", f.type() == null ? "server_error" : f.type());
        g.writeNullField("param");
        g.writeNullField("code");
        g.writeEndObject();
        g.writeEndObject();
      });
    }
    return bytes();
  }

  @Override
  public ByteString end() {
    if (over) {
      return ByteString.emptyByteString();
    }
    over = true;
    buf.reset();
    if (includeUsage && usage != null) {
      if (id == null) {
        id = ChatWire.completionId(null);
        model = "";
      }
      Usage u = usage;
      event(g -> {
        head(g);
        g.writeArrayFieldStart("choices");
        g.writeEndArray();
        ChatWire.writeUsage(g, u);
        g.writeEndObject();
      });
    }
    return buf.size() == 0 ? DONE : bytes().concat(DONE);
  }

  private void startIfNot() {
    if (id == null) {
      start(null, null);
    }
  }

  private void start(String upstreamId, String upstreamModel) {
    id = ChatWire.completionId(upstreamId);
    model = upstreamModel == null ? "" : upstreamModel;
    chunk(g -> {
      g.writeStringField("role", "assistant");
      g.writeStringField("content", "");
    }, null);
  }

  /** A tool call's delta: its first carries the id, type and name, as OpenAI's does. */
  private static void toolCall(JsonGenerator g, int index, boolean first, String callId, String name,
      String arguments) throws IOException {
    g.writeArrayFieldStart("tool_calls");
    g.writeStartObject();
    g.writeNumberField("index", index);
    if (first) {
      g.writeStringField("id", ChatWire.callId(callId));
      g.writeStringField("type", "function");
    }
    g.writeObjectFieldStart("function");
    if (first) {
      g.writeStringField("name", name == null ? "" : name);
    }
    g.writeStringField("arguments", arguments);
    g.writeEndObject();
    g.writeEndObject();
    g.writeEndArray();
  }

  /** One chunk of choice 0: its delta's fields, and its finish reason (null while generating). */
  private void chunk(ChatWire.Body delta, String finishReason) {
    event(g -> {
      head(g);
      g.writeArrayFieldStart("choices");
      g.writeStartObject();
      g.writeNumberField("index", 0);
      g.writeObjectFieldStart("delta");
      delta.write(g);
      g.writeEndObject();
      g.writeNullField("logprobs");
      g.writeStringField("finish_reason", finishReason);
      g.writeEndObject();
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  private void head(JsonGenerator g) throws IOException {
    g.writeStartObject();
    g.writeStringField("id", id);
    g.writeStringField("object", "chat.completion.chunk");
    g.writeNumberField("created", created);
    g.writeStringField("model", model);
  }

  /** Appends one {@code data:} event to the buffer. */
  private void event(ChatWire.Body body) {
    buf.writeBytes(DATA);
    try (JsonGenerator g = ChatWire.JSON.createGenerator(buf)) {
      body.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // an in-memory stream does not fail
    }
    buf.writeBytes(END);
  }

  private ByteString bytes() {
    return buf.size() == 0 ? ByteString.emptyByteString() : ByteString.fromArrayUnsafe(buf.toByteArray());
  }
}
