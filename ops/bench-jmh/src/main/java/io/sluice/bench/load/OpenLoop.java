package io.sluice.bench.load;

import static io.sluice.bench.load.LoadWire.fmt;
import static io.sluice.bench.load.LoadWire.kv;
import static io.sluice.bench.load.LoadWire.ms;
import static io.sluice.bench.load.LoadWire.port;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * A constant-rate, open-loop HTTP/1.1 load generator that measures latency without coordinated
 * omission, in the manner of wrk2 (which Debian does not package).
 *
 * <p>Request {@code i} is <em>due</em> at {@code t0 + i / rate}, whether or not earlier requests
 * have been answered. It goes out on an idle keep-alive connection as soon as it is due; when all
 * connections are busy it waits in line. Its latency is measured from when it was <em>due</em>, not
 * from when it was sent, so a stall of the server shows up in the latency of every request that
 * should have been sent during the stall, as a real client population would see it. The time from
 * the actual send ({@code svc_*}, "service time") is reported too.
 *
 * <p>One Netty event loop owns every connection and every histogram; one pacer thread sleeps
 * ({@code parkNanos}) until the next request is due and wakes the loop. Requests are pre-encoded
 * bytes (one per API key, used round-robin); responses are decoded and aggregated by Netty's HTTP
 * codec. The {@code x-sluice-overhead-ms} response header, when present, goes into its own
 * histogram.
 *
 * <p>Several rates run back to back in one JVM ({@code --rates 500,1000,5000}), each with its own
 * warm-up (not recorded) and measured phase; one {@code OPENLOOP key=value ...} line is printed per
 * rate.
 *
 * <pre>
 * java -cp ops/bench-jmh/target/benchmarks.jar io.sluice.bench.load.OpenLoop \
 *   --url http://127.0.0.1:8080/v1/chat/completions --rates 500,1000,5000 --duration 10 --warmup 3 \
 *   --connections 64 --body ops/bench-lib/chat-request.json --key sk-sluice.bench.xxx
 * </pre>
 */
public final class OpenLoop {
  static final String USAGE = """
      usage: OpenLoop --url URL --rates R[,R...] --body FILE [--duration S] [--warmup S]
                      [--connections N] [--key K | --keys FILE] [--drain S] [--prewarm S]
                      [--trace DIR]
        --url          http://host:port/path to POST the body to
        --rates        offered rates in requests per second, run one after the other
        --body         file with the request body (sent as application/json)
        --duration     measured seconds per rate (default 10)
        --warmup       seconds at each rate before measuring, not recorded (default 3)
        --connections  keep-alive connections, the most requests in flight (default 64)
        --key, --keys  bearer key(s); with several, request i uses key i mod n (default "none")
        --drain        seconds to wait for answers after the schedule ends (default 10)
        --prewarm      seconds at the highest rate before the first one, not recorded (default 0)
        --trace        writes DIR/trace-RATE.tsv: per measured answer its due time (after the first
                       one's), latency and service time, in microseconds, to see when slow ones come
      Prints one line per rate: OPENLOOP rate=.. achieved_rps=.. count=.. errors=.. timeouts=..
      p50_ms p90_ms p99_ms p999_ms max_ms mean_ms (from the due time), svc_* (from the send),
      ttfb_* (to the first body bytes, from the send), ovh_* (the x-sluice-overhead-ms header).""";
  private static final AttributeKey<Conn> CONN = AttributeKey.valueOf("conn");
  private static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(120);

  /** Settings of a run. */
  record Options(URI url, List<Integer> rates, double durationS, double warmupS, int connections,
      byte[] body, List<String> keys, double drainS, double prewarmS, Path trace) {}

  /** Results of one rate. */
  record Result(int rate, double spanS, long count, long errors, long timeouts, Histogram latency,
      Histogram service, Histogram overhead, Histogram firstByte) {

    String line() {
      StringBuilder sb = new StringBuilder("OPENLOOP");
      kv(sb, "rate", Integer.toString(rate));
      kv(sb, "achieved_rps", fmt(spanS > 0 ? count / spanS : 0, 1));
      kv(sb, "count", Long.toString(count));
      kv(sb, "errors", Long.toString(errors));
      kv(sb, "timeouts", Long.toString(timeouts));
      percentiles(sb, "", latency);
      percentiles(sb, "svc_", service);
      percentiles(sb, "ttfb_", firstByte);
      kv(sb, "ovh_n", Long.toString(overhead.getTotalCount()));
      if (overhead.getTotalCount() > 0) {
        kv(sb, "ovh_p50_ms", ms(overhead.getValueAtPercentile(50)));
        kv(sb, "ovh_p90_ms", ms(overhead.getValueAtPercentile(90)));
        kv(sb, "ovh_p99_ms", ms(overhead.getValueAtPercentile(99)));
      }
      return sb.toString();
    }

    private static void percentiles(StringBuilder sb, String prefix, Histogram h) {
      if (h.getTotalCount() == 0) {
        return;
      }
      kv(sb, prefix + "p50_ms", ms(h.getValueAtPercentile(50)));
      kv(sb, prefix + "p90_ms", ms(h.getValueAtPercentile(90)));
      kv(sb, prefix + "p99_ms", ms(h.getValueAtPercentile(99)));
      kv(sb, prefix + "p999_ms", ms(h.getValueAtPercentile(99.9)));
      kv(sb, prefix + "max_ms", ms(h.getMaxValue()));
      kv(sb, prefix + "mean_ms", fmt(h.getMean() / 1e6, 3));
    }

  }

  /** One keep-alive connection and its one in-flight request. */
  private static final class Conn {
    Channel channel;
    boolean busy;
    long generation;
    long index;
    long dueAt;
    long sentAt;
    long firstByteAt;
  }

  private final Options options;
  private final NioEventLoopGroup group;
  private final EventLoop loop;
  private final ByteBuf[] requests;

  // Everything below is touched only on the event loop.
  private final ArrayDeque<Conn> idle = new ArrayDeque<>();
  private final List<Conn> all = new ArrayList<>();
  private final Runnable dispatch = this::dispatch;
  private long t0;
  private long intervalNanos;
  private long total;
  private long warmupCount;
  private long next;
  private long completed;
  private long lastDone;
  private long errors;
  private Histogram latency;
  private Histogram service;
  private Histogram overhead;
  private Histogram firstByte;
  /** With --trace: per measured answer, its due time after the first one's, latency and service time (ns). */
  private long[] traced;
  private int tracedCount;
  private long generation;
  private volatile boolean closing;

  OpenLoop(Options options) {
    this.options = options;
    this.group = new NioEventLoopGroup(1, new DefaultThreadFactory("openloop", true));
    this.loop = group.next();
    this.requests = LoadWire.requests(options.url(), options.keys(), options.body());
  }

  /** Opens the connections; fails if any cannot be opened. */
  void connect() throws InterruptedException {
    Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpResponseDecoder(), new FirstByte(),
                new HttpObjectAggregator(64 * 1024 * 1024), new Handler());
          }
        });
    for (int i = 0; i < options.connections(); i++) {
      Channel ch = b.connect(options.url().getHost(), port(options.url())).sync().channel();
      Conn c = new Conn();
      c.channel = ch;
      ch.attr(CONN).set(c);
      loop.submit(() -> {
        all.add(c);
        idle.push(c);
      }).sync();
    }
  }

  /** Runs one rate: warm-up (not recorded), then the measured phase, then waits for stragglers. */
  Result run(int rate) throws InterruptedException {
    return run(rate, options.warmupS(), options.durationS());
  }

  Result run(int rate, double warmupS, double durationS) throws InterruptedException {
    long warm = Math.round(warmupS * rate);
    long measured = Math.max(1, Math.round(durationS * rate));
    long interval = Math.max(1, 1_000_000_000L / rate);
    long count = warm + measured;
    long start = System.nanoTime() + 1_000_000;
    loop.submit(() -> {
      generation++;
      intervalNanos = interval;
      warmupCount = warm;
      total = count;
      next = 0;
      completed = 0;
      lastDone = 0;
      errors = 0;
      latency = new Histogram(HIGHEST_NANOS, 3);
      service = new Histogram(HIGHEST_NANOS, 3);
      overhead = new Histogram(HIGHEST_NANOS, 3);
      firstByte = new Histogram(HIGHEST_NANOS, 3);
      traced = options.trace() != null ? new long[(int) Math.min(3L * measured, 30_000_000L)] : null;
      tracedCount = 0;
      t0 = start;
    }).sync();
    // Pacer: wakes the loop whenever the next request falls due; ends with the schedule.
    long end = start + count * interval;
    while (true) {
      long now = System.nanoTime();
      loop.execute(dispatch);
      if (now >= end) {
        break;
      }
      long due = now < start ? start : start + ((now - start) / interval + 1) * interval;
      LockSupport.parkNanos(Math.max(1_000, due - now));
    }
    // Drain: wait (bounded) for the answers to every request of the schedule.
    long drainUntil = System.nanoTime() + (long) (options.drainS() * 1e9);
    while (System.nanoTime() < drainUntil) {
      boolean done = loop.submit(() -> next >= total && idle.size() == all.size()).sync().getNow();
      if (done) {
        break;
      }
      loop.execute(dispatch);
      Thread.sleep(5);
    }
    return loop.submit(() -> {
      long now = System.nanoTime();
      long timeouts = 0;
      // Requests never sent or never answered: charged until now, as a waiting client would be.
      for (Conn c : all) {
        if (c.busy && c.generation == generation && c.index >= warmupCount) {
          latency.recordValue(Math.min(HIGHEST_NANOS, now - c.dueAt));
          timeouts++;
        }
      }
      for (long i = Math.max(next, warmupCount); i < total; i++) {
        latency.recordValue(Math.min(HIGHEST_NANOS, now - (t0 + i * intervalNanos)));
        timeouts++;
      }
      // Achieved rate: answers over the time from the first measured request's due time to the
      // last answer; below the offered rate when the target cannot keep up.
      long firstDue = t0 + warmupCount * intervalNanos;
      double spanS = lastDone > firstDue ? (lastDone - firstDue) / 1e9 : 0;
      writeTrace(rate);
      return new Result(rate, spanS, completed, errors, timeouts, latency.copy(), service.copy(),
          overhead.copy(), firstByte.copy());
    }).sync().getNow();
  }

  /** With --trace DIR: writes trace-RATE.tsv, one line per measured answer (microseconds). */
  private void writeTrace(int rate) {
    if (traced == null) {
      return;
    }
    // The first measured request's due time on the monotonic clock (System.nanoTime), so the trace
    // can be laid over a profile of the same run (e.g. perf record -k CLOCK_MONOTONIC).
    StringBuilder sb = new StringBuilder("# first_due_nanotime=")
        .append(t0 + warmupCount * intervalNanos).append('\n').append("due_us\tlatency_us\tservice_us\n");
    for (int i = 0; i + 2 < tracedCount; i += 3) {
      sb.append(traced[i] / 1000).append('\t').append(traced[i + 1] / 1000).append('\t')
          .append(traced[i + 2] / 1000).append('\n');
    }
    try {
      Files.createDirectories(options.trace());
      Files.writeString(options.trace().resolve("trace-" + rate + ".tsv"), sb);
    } catch (IOException e) {
      System.err.println("openloop: cannot write the trace: " + e.getMessage());
    }
  }

  /** On the loop: sends every due request for which a connection is idle. */
  private void dispatch() {
    long now = System.nanoTime();
    if (now < t0) {
      return;
    }
    long due = Math.min(total, (now - t0) / intervalNanos + 1);
    while (next < due && !idle.isEmpty()) {
      Conn c = idle.pop();
      c.busy = true;
      c.generation = generation;
      c.index = next;
      c.dueAt = t0 + next * intervalNanos;
      c.sentAt = System.nanoTime();
      c.firstByteAt = 0;
      ByteBuf req = requests[(int) (next % requests.length)];
      next++;
      c.channel.writeAndFlush(req.duplicate(), c.channel.voidPromise());
    }
  }

  private void complete(Conn c, FullHttpResponse response) {
    long now = System.nanoTime();
    if (!c.busy) {
      return; // an answer nobody asked for
    }
    if (c.generation == generation && c.index >= warmupCount) {
      completed++;
      lastDone = now;
      int status = response.status().code();
      if (status < 200 || status >= 300) {
        errors++;
      }
      latency.recordValue(Math.min(HIGHEST_NANOS, now - c.dueAt));
      service.recordValue(Math.min(HIGHEST_NANOS, now - c.sentAt));
      if (traced != null && tracedCount + 3 <= traced.length) {
        traced[tracedCount++] = c.dueAt - (t0 + warmupCount * intervalNanos);
        traced[tracedCount++] = now - c.dueAt;
        traced[tracedCount++] = now - c.sentAt;
      }
      if (c.firstByteAt != 0) {
        firstByte.recordValue(Math.min(HIGHEST_NANOS, c.firstByteAt - c.sentAt));
      }
      String ovh = response.headers().get("x-sluice-overhead-ms");
      if (ovh != null) {
        try {
          overhead.recordValue(Math.min(HIGHEST_NANOS, Math.round(Double.parseDouble(ovh) * 1e6)));
        } catch (NumberFormatException ignored) {
          // not a number: not recorded
        }
      }
    }
    c.busy = false;
    idle.push(c);
    dispatch();
  }

  /**
   * Stamps the arrival of a response's first body bytes (for a stream, its first event) before the
   * aggregator holds them back until the response is whole.
   */
  private static final class FirstByte extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpContent content && content.content().isReadable()) {
        Conn c = ctx.channel().attr(CONN).get();
        if (c != null && c.busy && c.firstByteAt == 0) {
          c.firstByteAt = System.nanoTime();
        }
      }
      ctx.fireChannelRead(msg);
    }
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpResponse> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
      complete(ctx.channel().attr(CONN).get(), response);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      Conn c = ctx.channel().attr(CONN).get();
      if (c != null) {
        all.remove(c);
        idle.remove(c);
        if (c.busy && c.generation == generation && c.index >= warmupCount) {
          errors++;
          completed++;
          latency.recordValue(Math.min(HIGHEST_NANOS, System.nanoTime() - c.dueAt));
        }
        if (!closing) {
          System.err.println("openloop: a connection closed; " + all.size() + " left");
        }
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  void close() {
    closing = true;
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  static Options parse(String[] args) throws IOException {
    URI url = null;
    List<Integer> rates = new ArrayList<>();
    double duration = 10;
    double warmup = 3;
    int connections = 64;
    byte[] body = null;
    List<String> keys = new ArrayList<>();
    double drain = 10;
    double prewarm = 0;
    Path trace = null;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("missing value for " + flag);
      }
      String v = args[++i];
      switch (flag) {
        case "--url" -> url = URI.create(v);
        case "--rate", "--rates" -> {
          for (String r : v.split(",")) {
            rates.add(Integer.parseInt(r.trim()));
          }
        }
        case "--duration" -> duration = Double.parseDouble(v);
        case "--warmup" -> warmup = Double.parseDouble(v);
        case "--connections" -> connections = Integer.parseInt(v);
        case "--body" -> body = Files.readAllBytes(Path.of(v));
        case "--key" -> keys.add(v);
        case "--keys" -> {
          for (String line : Files.readAllLines(Path.of(v))) {
            if (!line.isBlank()) {
              keys.add(line.trim());
            }
          }
        }
        case "--drain" -> drain = Double.parseDouble(v);
        case "--prewarm" -> prewarm = Double.parseDouble(v);
        case "--trace" -> trace = Path.of(v);
        default -> throw new IllegalArgumentException("unknown flag " + flag);
      }
    }
    if (url == null || body == null || rates.isEmpty()) {
      throw new IllegalArgumentException("--url, --body and --rates are required");
    }
    if (!"http".equals(url.getScheme())) {
      throw new IllegalArgumentException("only http:// URLs");
    }
    for (int r : rates) {
      if (r < 1 || r > 1_000_000) {
        throw new IllegalArgumentException("rate must be in [1, 1000000]: " + r);
      }
    }
    if (duration <= 0 || duration > 3600 || warmup < 0 || warmup > 3600 || prewarm < 0 || prewarm > 3600) {
      throw new IllegalArgumentException("duration must be in (0, 3600] s, warmup and prewarm in [0, 3600] s");
    }
    if (connections < 1 || connections > 10_000) {
      throw new IllegalArgumentException("connections must be in [1, 10000]");
    }
    if (keys.isEmpty()) {
      keys.add("none");
    }
    return new Options(url, List.copyOf(rates), duration, warmup, connections, body, List.copyOf(keys), drain,
        prewarm, trace);
  }

  public static void main(String[] args) throws Exception {
    Options options;
    if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println(USAGE);
      return;
    }
    try {
      options = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("openloop: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    OpenLoop gen = new OpenLoop(options);
    PrintStream out = System.out;
    try {
      gen.connect();
      if (options.prewarmS() > 0) {
        // The generator's own JIT: a fresh JVM compiles for its first seconds of load, on the core it
        // shares with the mock, and that would show up as the target's latency. Not recorded.
        gen.run(Collections.max(options.rates()), options.prewarmS(), 0);
      }
      for (int rate : options.rates()) {
        Result r = gen.run(rate);
        out.println(r.line());
        out.flush();
      }
    } finally {
      gen.close();
    }
  }
}
