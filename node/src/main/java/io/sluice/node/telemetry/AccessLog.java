package io.sluice.node.telemetry;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log: one JSON line per request to the logger {@value #LOGGER}, whose only appender is
 * a file of its own, attached here when the log is on (so a node with the log off creates no file). A request only offers its {@link RequestRecord} to a
 * bounded queue; one writer thread formats and writes the lines. When the queue is full the line
 * is dropped and counted ({@link #dropped()}): the log never blocks a request.
 *
 * <p>A line holds the record's fields only, so never a prompt, a completion or a secret.
 */
public final class AccessLog implements AutoCloseable {
  /** The logger the lines go to. */
  public static final String LOGGER = "sluice.access";
  private static final JsonFactory JSON = new JsonFactory();

  private final BlockingQueue<RequestRecord> queue;
  private final Logger log;
  private final LongAdder dropped = new LongAdder();
  private final Thread writer;
  private volatile boolean closed;

  /** The access log writing to {@code file} (appended to, created when missing). */
  public AccessLog(int capacity, Path file) {
    this(capacity, fileLogger(file));
  }

  AccessLog(int capacity, Logger log) {
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.log = log;
    this.writer = new Thread(this::drain, "sluice-access-log");
    writer.setDaemon(true);
    writer.start();
  }

  /** The logger {@value #LOGGER} of logback's context, writing only to {@code file}. */
  private static Logger fileLogger(Path file) {
    Logger logger = LoggerFactory.getLogger(LOGGER);
    if (logger instanceof ch.qos.logback.classic.Logger l) {
      LoggerContext ctx = l.getLoggerContext();
      PatternLayoutEncoder encoder = new PatternLayoutEncoder();
      encoder.setContext(ctx);
      encoder.setPattern("%msg%n");
      encoder.start();
      FileAppender<ILoggingEvent> appender = new FileAppender<>();
      appender.setContext(ctx);
      appender.setName("ACCESS");
      appender.setFile(file.toString());
      appender.setAppend(true);
      appender.setEncoder(encoder);
      appender.start();
      l.detachAppender("ACCESS");
      l.addAppender(appender);
      l.setAdditive(false);
      l.setLevel(Level.INFO);
    }
    return logger;
  }

  /** Queues {@code r}'s line, or drops and counts it when the queue is full. Never blocks. */
  public void write(RequestRecord r) {
    if (!queue.offer(r)) {
      dropped.increment();
    }
  }

  /** Lines dropped because the queue was full. */
  public long dropped() {
    return dropped.sum();
  }

  private void drain() {
    while (!closed || !queue.isEmpty()) {
      RequestRecord r;
      try {
        r = queue.poll(200, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (r != null) {
        try {
          log.info(line(r));
        } catch (RuntimeException e) {
          // A failing appender must not stop the writer; logback reports its own errors.
          dropped.increment();
        }
      }
    }
  }

  /** {@code r} as one line of JSON, with every field present (null when unknown). */
  static String line(RequestRecord r) {
    java.io.StringWriter out = new java.io.StringWriter(512);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("timestamp", r.timestamp().toString());
      g.writeStringField("request_id", r.requestId());
      g.writeStringField("tenant", r.tenant());
      g.writeStringField("key_id", r.keyId());
      g.writeStringField("surface", r.surface());
      g.writeStringField("operation", r.operation().name().toLowerCase());
      g.writeStringField("model", r.model());
      g.writeStringField("deployment", r.deployment());
      g.writeNumberField("status", r.status());
      g.writeStringField("error_code", r.errorCode());
      g.writeNumberField("input_tokens", r.inputTokens());
      g.writeNumberField("output_tokens", r.outputTokens());
      g.writeNumberField("cost_usd", r.costUsd());
      g.writeNumberField("duration_ms", r.durationNanos() / 1e6);
      if (r.firstByteNanos() >= 0) {
        g.writeNumberField("time_to_first_byte_ms", r.firstByteNanos() / 1e6);
      } else {
        g.writeNullField("time_to_first_byte_ms");
      }
      g.writeNumberField("overhead_ms", r.overheadNanos() / 1e6);
      g.writeNumberField("attempts", r.attempts());
      g.writeBooleanField("stream", r.streamed());
      g.writeStringField("region", r.region());
      g.writeEndObject();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toString();
  }

  /** Writes what is queued and stops the writer (within a second). */
  @Override
  public void close() {
    closed = true;
    try {
      writer.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
