package io.sluice.node.surface.responses;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.StreamEncoder;
import io.sluice.node.inference.chat.Usage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.util.ByteString;

/**
 * Renders neutral events as the Responses API's stream, as OpenAI sends it and its SDKs parse it:
 * {@code response.created} and {@code response.in_progress} first; a message item opened with
 * {@code response.output_item.added} and {@code response.content_part.added}, its text as
 * {@code response.output_text.delta}s, closed with {@code .output_text.done},
 * {@code .content_part.done} and {@code .output_item.done}; a function call item with
 * {@code response.function_call_arguments.delta}s and {@code .done}; and last
 * {@code response.completed} (or {@code response.incomplete}) with the whole response and its
 * usage, which comes only then since the usage may follow the finish. An upstream failure ends it
 * with {@code response.failed}. Every event carries its {@code sequence_number}, from 0. One per
 * stream, fed in order.
 */
final class ResponsesStreamEncoder implements StreamEncoder {
  private final JsonNode request;
  private final String clientModel;
  private final long createdAt;
  private String id;
  private String model;
  private int sequence;
  private boolean started;
  private boolean ended;
  private final List<ResponseObject.Item> done = new ArrayList<>();
  /** The open message item: its output index, its text so far; -1 when none is open. */
  private int messageIndex = -1;
  private StringBuilder text;
  private String messageId;
  /** Function call items by the neutral tool call index. */
  private final Map<Integer, Call> calls = new HashMap<>();
  private Call openCall;
  private int nextIndex;
  private FinishReason finish;
  private Usage usage;

  private static final class Call {
    final int outputIndex;
    final String itemId;
    final String callId;
    final String name;
    final StringBuilder arguments = new StringBuilder();
    boolean closed;

    Call(int outputIndex, String itemId, String callId, String name) {
      this.outputIndex = outputIndex;
      this.itemId = itemId;
      this.callId = callId;
      this.name = name;
    }
  }

  ResponsesStreamEncoder(JsonNode request, String clientModel, long createdAt) {
    this.request = request;
    this.clientModel = clientModel;
    this.createdAt = createdAt;
  }

  @Override
  public ByteString encode(ChatEvent event) {
    if (ended) {
      return ByteString.emptyByteString();
    }
    Events out = new Events();
    if (event instanceof ChatEvent.Started s) {
      start(out, s.id(), s.model());
      return out.bytes();
    }
    start(out, null, null);
    if (event instanceof ChatEvent.TextDelta t) {
      if (messageIndex < 0) {
        openMessage(out);
      }
      text.append(t.text());
      out.event("response.output_text.delta", g -> {
        g.writeStringField("item_id", messageId);
        g.writeNumberField("output_index", messageIndex);
        g.writeNumberField("content_index", 0);
        g.writeStringField("delta", t.text());
        g.writeArrayFieldStart("logprobs");
        g.writeEndArray();
      });
    } else if (event instanceof ChatEvent.ToolCallStarted c) {
      closeMessage(out);
      closeCall(out);
      Call call = new Call(nextIndex++, ResponseObject.callItemId(c.id()), c.id(), c.name());
      calls.put(c.index(), call);
      openCall = call;
      out.event("response.output_item.added", g -> {
        g.writeNumberField("output_index", call.outputIndex);
        g.writeFieldName("item");
        ResponseObject.writeItem(g, new ResponseObject.Item.FunctionCall(call.itemId, call.callId, call.name, "",
            "in_progress"));
      });
    } else if (event instanceof ChatEvent.ToolArgumentsDelta a) {
      Call call = calls.get(a.index());
      if (call != null && !a.fragment().isEmpty()) {
        call.arguments.append(a.fragment());
        out.event("response.function_call_arguments.delta", g -> {
          g.writeStringField("item_id", call.itemId);
          g.writeNumberField("output_index", call.outputIndex);
          g.writeStringField("delta", a.fragment());
        });
      }
    } else if (event instanceof ChatEvent.Finished f) {
      finish = f.reason();
    } else if (event instanceof ChatEvent.UsageReported u) {
      usage = u.usage();
    } else if (event instanceof ChatEvent.Failed f) {
      closeMessage(out);
      closeCall(out);
      ended = true;
      String[] error = {f.type() != null ? f.type() : "server_error", f.message()};
      out.event("response.failed", g -> {
        g.writeFieldName("response");
        ResponseObject.write(g, snapshot("failed", null, error), request);
      });
    }
    return out.bytes();
  }

  @Override
  public ByteString end() {
    if (ended) {
      return ByteString.emptyByteString();
    }
    Events out = new Events();
    start(out, null, null);
    closeMessage(out);
    closeCall(out);
    ended = true;
    String[] status = ResponseObject.status(finish);
    out.event(status[0].equals("completed") ? "response.completed" : "response.incomplete", g -> {
      g.writeFieldName("response");
      ResponseObject.write(g, snapshot(status[0], status[1], null), request);
    });
    return out.bytes();
  }

  /** response.created and response.in_progress, once, before anything else. */
  private void start(Events out, String upstreamId, String upstreamModel) {
    if (started) {
      return;
    }
    started = true;
    id = ResponseObject.responseId(upstreamId);
    model = upstreamModel != null && !upstreamModel.isEmpty() ? upstreamModel : clientModel;
    for (String type : List.of("response.created", "response.in_progress")) {
      out.event(type, g -> {
        g.writeFieldName("response");
        ResponseObject.write(g, snapshot("in_progress", null, null), request);
      });
    }
  }

  private void openMessage(Events out) {
    closeCall(out);
    messageIndex = nextIndex++;
    messageId = ResponseObject.messageId(id, messageIndex);
    text = new StringBuilder();
    out.event("response.output_item.added", g -> {
      g.writeNumberField("output_index", messageIndex);
      g.writeFieldName("item");
      ResponseObject.writeItem(g, new ResponseObject.Item.Message(messageId, List.of(), "in_progress"));
    });
    out.event("response.content_part.added", g -> {
      partFields(g);
      g.writeFieldName("part");
      ResponseObject.writeTextPart(g, "");
    });
  }

  private void closeMessage(Events out) {
    if (messageIndex < 0) {
      return;
    }
    String full = text.toString();
    out.event("response.output_text.done", g -> {
      partFields(g);
      g.writeStringField("text", full);
      g.writeArrayFieldStart("logprobs");
      g.writeEndArray();
    });
    out.event("response.content_part.done", g -> {
      partFields(g);
      g.writeFieldName("part");
      ResponseObject.writeTextPart(g, full);
    });
    ResponseObject.Item.Message item = new ResponseObject.Item.Message(messageId, List.of(full), "completed");
    int index = messageIndex;
    out.event("response.output_item.done", g -> {
      g.writeNumberField("output_index", index);
      g.writeFieldName("item");
      ResponseObject.writeItem(g, item);
    });
    done.add(item);
    messageIndex = -1;
  }

  private void closeCall(Events out) {
    Call call = openCall;
    if (call == null || call.closed) {
      return;
    }
    call.closed = true;
    openCall = null;
    String arguments = call.arguments.length() == 0 ? "{}" : call.arguments.toString();
    out.event("response.function_call_arguments.done", g -> {
      g.writeStringField("item_id", call.itemId);
      g.writeNumberField("output_index", call.outputIndex);
      g.writeStringField("name", call.name);
      g.writeStringField("arguments", arguments);
    });
    ResponseObject.Item.FunctionCall item =
        new ResponseObject.Item.FunctionCall(call.itemId, call.callId, call.name, arguments, "completed");
    out.event("response.output_item.done", g -> {
      g.writeNumberField("output_index", call.outputIndex);
      g.writeFieldName("item");
      ResponseObject.writeItem(g, item);
    });
    done.add(item);
  }

  private void partFields(JsonGenerator g) throws IOException {
    g.writeStringField("item_id", messageId);
    g.writeNumberField("output_index", messageIndex);
    g.writeNumberField("content_index", 0);
  }

  private ResponseObject.Snapshot snapshot(String status, String incomplete, String[] error) {
    return new ResponseObject.Snapshot(id, model, createdAt, status, List.copyOf(done), incomplete, error,
        status.equals("in_progress") ? null : usage == null ? Usage.of(0, 0) : usage);
  }

  /** Writes the fields of one event's data after its type. */
  @FunctionalInterface
  private interface Fields {
    void write(JsonGenerator g) throws IOException;
  }

  /** The events one call produces, each {@code event: TYPE} then its data, numbered in order. */
  private final class Events {
    private ByteArrayOutputStream buf;

    void event(String type, Fields fields) {
      if (buf == null) {
        buf = new ByteArrayOutputStream(256);
      }
      try {
        buf.write(("event: " + type + "\ndata: ").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        try (JsonGenerator g = ResponseObject.JSON.createGenerator(buf)) {
          g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
          g.writeStartObject();
          g.writeStringField("type", type);
          fields.write(g);
          g.writeNumberField("sequence_number", sequence++);
          g.writeEndObject();
        }
        buf.write('\n');
        buf.write('\n');
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    ByteString bytes() {
      return buf == null ? ByteString.emptyByteString() : ByteString.fromArrayUnsafe(buf.toByteArray());
    }
  }
}
