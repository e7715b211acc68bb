package io.sluice.node.telemetry;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.sluice.node.auth.ApiKeys;
import io.sluice.node.auth.TenantView;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Refusal;
import io.sluice.node.inference.RequestObservation;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.routing.Deployment;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.UsageCounters;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * One request's observation: it gathers the request's facts as the pipeline reports them, keeps
 * its spans when traces are exported, and when the request is over (its response finished and,
 * if it was admitted, its usage settled, in whichever order) hands one {@link RequestRecord} to
 * the metrics and the access log and ends the request span. It completes exactly once.
 *
 * <p>Its steps run one after another (each happens-before the next through the request's
 * completion stages); only {@link #settled} and {@link #finished} may run at once, and the
 * atomic {@link #state} decides which of them completes the request and publishes what the
 * other wrote.
 */
final class LiveObservation implements RequestObservation {
  private static final int FINISHED = 1;
  private static final int SETTLED = 2;
  private static final AtomicIntegerFieldUpdater<LiveObservation> STATE =
      AtomicIntegerFieldUpdater.newUpdater(LiveObservation.class, "state");

  private final Observability owner;
  private final String surface;
  private final Operation op;
  private final String requestId;
  private final long start;
  private final Instant timestamp;
  /** The client's traceparent and tracestate, passed on unchanged when this node makes no span. */
  private final String clientTraceparent;
  private final String clientTracestate;
  private final Span span;
  private volatile int state;

  private String tenant;
  private String keyId;
  private String model;
  private boolean admitted;
  private Deployment deployment;
  private int attempts;
  private Span attemptSpan;
  private long attemptStart;
  private boolean attemptOpen;
  private long upstreamNanos;
  private String responseModel;
  private List<String> finishReasons;
  private Refusal refusal;
  private UsageCounters usage;
  private long settledAt;
  private int status;
  private boolean streamed;
  private long overhead = -1;
  private long finishedAt;
  private volatile boolean firstByteSeen;
  private long firstByteAt;

  LiveObservation(Observability owner, String surface, Operation op, String requestId, long start,
      Function<String, String> header) {
    this.owner = owner;
    this.surface = surface;
    this.op = op;
    this.requestId = requestId;
    this.start = start;
    this.timestamp = owner.clock.instant();
    String operation = operation(op);
    if (owner.tracing != null) {
      this.span = owner.tracing.startRequest(operation, surface, requestId, header);
      this.clientTraceparent = null;
      this.clientTracestate = null;
    } else {
      this.span = null;
      this.clientTraceparent = header.apply("traceparent");
      this.clientTracestate = clientTraceparent == null ? null : header.apply("tracestate");
    }
  }

  private static String operation(Operation op) {
    return op == Operation.CHAT ? "chat" : "embeddings";
  }

  @Override
  public void authenticated(TenantView view, String key) {
    tenant = view.tenantId();
    String hash = ApiKeys.hash(key);
    for (TenantState.KeyRecord k : view.state().keys().values()) {
      if (k.keyHash().equals(hash)) {
        keyId = k.keyId();
        break;
      }
    }
    if (span != null) {
      span.setAttribute(Tracing.TENANT, tenant);
      if (keyId != null) {
        span.setAttribute(Tracing.KEY_ID, keyId);
      }
    }
  }

  @Override
  public void admitted(ModelCatalog.Model m, long maxTokens) {
    model = m.name();
    admitted = true;
    if (span != null) {
      span.updateName(operation(op) + " " + model);
      span.setAttribute(Tracing.REQUEST_MODEL, model);
      if (maxTokens >= 0) {
        span.setAttribute(Tracing.MAX_TOKENS, maxTokens);
      }
    }
  }

  @Override
  public void attemptStarted(Deployment d) {
    deployment = d;
    attempts++;
    attemptOpen = true;
    attemptStart = owner.nanos.getAsLong();
    if (span != null) {
      attemptSpan = owner.tracing.startAttempt(span, operation(op) + " " + d.upstreamModel());
      attemptSpan.setAttribute(Tracing.OPERATION, operation(op));
      attemptSpan.setAttribute(Tracing.PROVIDER, d.provider());
      attemptSpan.setAttribute(Tracing.REQUEST_MODEL, d.upstreamModel());
      attemptSpan.setAttribute(Tracing.DEPLOYMENT, d.name());
      address(attemptSpan, d);
    }
  }

  private static void address(Span s, Deployment d) {
    try {
      URI uri = URI.create(d.baseUrl());
      if (uri.getHost() != null) {
        s.setAttribute(Tracing.SERVER_ADDRESS, uri.getHost());
        int port = uri.getPort() > 0 ? uri.getPort() : "https".equals(uri.getScheme()) ? 443 : 80;
        s.setAttribute(Tracing.SERVER_PORT, (long) port);
      }
    } catch (IllegalArgumentException e) {
      // No address to report.
    }
  }

  @Override
  public HttpRequest propagate(HttpRequest upstream) {
    if (attemptSpan != null) {
      List<HttpHeader> headers = new ArrayList<>(2);
      Tracing.inject(attemptSpan, (k, v) -> headers.add(RawHeader.create(k, v)));
      return upstream.addHeaders(headers);
    }
    if (clientTraceparent != null) {
      upstream = upstream.addHeader(RawHeader.create("traceparent", clientTraceparent));
      return clientTracestate == null ? upstream : upstream.addHeader(RawHeader.create("tracestate", clientTracestate));
    }
    return upstream;
  }

  @Override
  public void attemptEnded(String outcome) {
    if (!attemptOpen) {
      return;
    }
    attemptOpen = false;
    long took = owner.nanos.getAsLong() - attemptStart;
    upstreamNanos += took;
    owner.metrics.attempt(deployment.name(), took);
    if (attemptSpan != null) {
      attemptSpan.setAttribute(Tracing.OUTCOME, outcome);
      if (!outcome.equals("ok")) {
        attemptSpan.setAttribute(Tracing.ERROR_TYPE, outcome);
        attemptSpan.setStatus(StatusCode.ERROR);
      }
      attemptSpan.end();
    }
  }

  @Override
  public void responded(String responseModel, FinishReason reason) {
    if (responseModel != null) {
      this.responseModel = responseModel;
    }
    if (reason != null) {
      this.finishReasons = List.of(reason.name().toLowerCase());
    }
  }

  @Override
  public void passedThrough(org.apache.pekko.util.ByteString body) {
    if (span != null) {
      ResponseFacts facts = ResponseFacts.scan(body.toArrayUnsafe());
      responseModel = facts.model();
      if (!facts.finishReasons().isEmpty()) {
        finishReasons = facts.finishReasons();
      }
    }
  }

  @Override
  public void firstByte() {
    if (!firstByteSeen) {
      firstByteAt = owner.nanos.getAsLong();
      firstByteSeen = true;
    }
  }

  @Override
  public void refused(Refusal r) {
    refusal = r;
  }

  @Override
  public void settled(UsageCounters u) {
    attemptEnded("ok");
    usage = u;
    settledAt = owner.nanos.getAsLong();
    advance(SETTLED);
  }

  @Override
  public void served(boolean streamed, long overheadNanos) {
    this.streamed = streamed;
    this.overhead = overheadNanos;
  }

  @Override
  public void finished(int status) {
    this.status = status;
    this.finishedAt = owner.nanos.getAsLong();
    if (overhead < 0) {
      // A refusal: the gateway's time is all but the attempts'.
      overhead = Math.max(0, finishedAt - start - upstreamNanos);
    }
    advance(FINISHED);
  }

  private void advance(int bit) {
    int prev = STATE.getAndUpdate(this, v -> v | bit);
    if (!over(prev) && over(prev | bit)) {
      complete();
    }
  }

  private boolean over(int s) {
    return (s & FINISHED) != 0 && (!admitted || (s & SETTLED) != 0);
  }

  private void complete() {
    long end = Math.max(finishedAt, usage == null ? finishedAt : settledAt);
    long firstByte = streamed ? (firstByteSeen ? firstByteAt - start : -1) : finishedAt - start;
    long input = usage == null ? 0 : usage.promptTokens();
    long output = usage == null ? 0 : usage.completionTokens();
    long cost = usage == null ? 0 : usage.costNanos();
    RequestRecord r = new RequestRecord(timestamp, requestId, surface, op, tenant, keyId, model,
        deployment == null ? null : deployment.name(), status, refusal == null ? null : refusal.kind(),
        refusal == null ? null : refusal.code(), input, output, cost, end - start, firstByte, streamed,
        overhead, attempts, null);
    owner.metrics.record(r);
    if (owner.accessLog != null) {
      owner.accessLog.write(r);
    }
    if (span != null) {
      endSpan(r);
    }
  }

  private void endSpan(RequestRecord r) {
    span.setAttribute(Tracing.HTTP_STATUS, (long) r.status());
    span.setAttribute(Tracing.ATTEMPTS, (long) r.attempts());
    span.setAttribute(Tracing.OVERHEAD, r.overheadNanos() / 1e6);
    if (deployment != null) {
      span.setAttribute(Tracing.DEPLOYMENT, deployment.name());
      span.setAttribute(Tracing.PROVIDER, deployment.provider());
      span.setAttribute(Tracing.RESPONSE_MODEL, responseModel != null ? responseModel : deployment.upstreamModel());
      address(span, deployment);
    }
    if (usage != null) {
      span.setAttribute(Tracing.INPUT_TOKENS, r.inputTokens());
      span.setAttribute(Tracing.OUTPUT_TOKENS, r.outputTokens());
      span.setAttribute(Tracing.COST, r.costUsd());
    }
    if (finishReasons != null) {
      span.setAttribute(Tracing.FINISH_REASONS, finishReasons);
    }
    if (refusal != null) {
      span.setAttribute(Tracing.ERROR_TYPE, refusal.code() != null ? refusal.code() : refusal.kind().name().toLowerCase());
    }
    if (r.status() >= 500) {
      span.setStatus(StatusCode.ERROR);
    }
    span.end();
  }
}
