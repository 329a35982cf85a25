/*
 * kafka-test-broker: the Kafka side of kafka-sink's test rig.
 *
 * No Kafka broker can be installed on the machines this project is tested on, so the rig runs
 * librdkafka's mock cluster (rdkafka_mock.h): N brokers that speak the real Kafka protocol over TCP on
 * 127.0.0.1, with fault injection. Tests drive it through test/support/kafka-test-broker.ts.
 *
 * Protocol: on start, one line `bootstrap host:port,host:port,...` on stdout. Then one command per
 * line on stdin, each answered with exactly one line, `ok` or `error <reason>`:
 *   create-topic <name> <partitions> <replication-factor>
 *   broker-down <id> | broker-up <id>            (ids start at 1)
 *   all-brokers-down | all-brokers-up
 *   push-request-errors <api-key> <code>...      (cluster-wide: the next requests of that API fail)
 *   push-broker-request-errors <id> <api-key> <code>:<rtt-ms>...
 *   clear-request-errors <api-key>
 *   broker-rtt <id|-1> <ms>                       (adds round-trip latency to every response)
 *   partition-leader <topic> <partition> <id|-1>
 *   topic-error <topic> <code>                    (Metadata answers this error for the topic)
 *   api-version <api-key> <min> <max>             (-1 -1 disables the API)
 *   quit
 * stdin EOF behaves like quit, so the broker dies with the process that started it.
 *
 * Build: gcc -O2 -Wall -o .tools/kafka-test-broker test/support/kafka-test-broker.c -lrdkafka
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_LINE 4096
#define MAX_ARGS 256

static rd_kafka_mock_cluster_t *cluster;

static void reply(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vfprintf(stdout, format, args);
  va_end(args);
  fputc('\n', stdout);
  fflush(stdout);
}

static int parse_long(const char *text, long min, long max, long *out) {
  char *end = NULL;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < min || value > max) return -1;
  *out = value;
  return 0;
}

/* Answers one line for one mock call: the mock returns librdkafka error codes, reported by name. */
static void reply_result(rd_kafka_resp_err_t err) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
    reply("ok");
  else
    reply("error %s: %s", rd_kafka_err2name(err), rd_kafka_err2str(err));
}

static void run_command(char **argv, int argc) {
  const char *command = argv[0];
  long a, b, c;

  if (strcmp(command, "create-topic") == 0) {
    if (argc != 4 || parse_long(argv[2], 1, 100000, &a) || parse_long(argv[3], 1, 1000, &b)) {
      reply("error usage: create-topic <name> <partitions> <replication-factor>");
      return;
    }
    reply_result(rd_kafka_mock_topic_create(cluster, argv[1], (int)a, (int)b));
  } else if (strcmp(command, "broker-down") == 0 || strcmp(command, "broker-up") == 0) {
    if (argc != 2 || parse_long(argv[1], 0, INT_MAX, &a)) {
      reply("error usage: %s <broker-id>", command);
      return;
    }
    reply_result(command[7] == 'd' ? rd_kafka_mock_broker_set_down(cluster, (int32_t)a)
                                   : rd_kafka_mock_broker_set_up(cluster, (int32_t)a));
  } else if (strcmp(command, "all-brokers-down") == 0) {
    reply_result(rd_kafka_mock_broker_set_down(cluster, -1));
  } else if (strcmp(command, "all-brokers-up") == 0) {
    reply_result(rd_kafka_mock_broker_set_up(cluster, -1));
  } else if (strcmp(command, "push-request-errors") == 0) {
    if (argc < 3 || argc - 2 > MAX_ARGS || parse_long(argv[1], 0, SHRT_MAX, &a)) {
      reply("error usage: push-request-errors <api-key> <code>...");
      return;
    }
    rd_kafka_resp_err_t errors[MAX_ARGS];
    for (int i = 2; i < argc; i++) {
      if (parse_long(argv[i], SHRT_MIN, SHRT_MAX, &b)) {
        reply("error not an error code: %s", argv[i]);
        return;
      }
      errors[i - 2] = (rd_kafka_resp_err_t)b;
    }
    rd_kafka_mock_push_request_errors_array(cluster, (int16_t)a, (size_t)(argc - 2), errors);
    reply("ok");
  } else if (strcmp(command, "push-broker-request-errors") == 0) {
    if (argc < 4 || parse_long(argv[1], 0, INT_MAX, &a) || parse_long(argv[2], 0, SHRT_MAX, &b)) {
      reply("error usage: push-broker-request-errors <broker-id> <api-key> <code>:<rtt-ms>...");
      return;
    }
    for (int i = 3; i < argc; i++) {
      char *colon = strchr(argv[i], ':');
      long rtt = 0;
      if (colon != NULL) {
        *colon = '\0';
        if (parse_long(colon + 1, 0, INT_MAX, &rtt)) {
          reply("error not a round-trip time: %s", colon + 1);
          return;
        }
      }
      if (parse_long(argv[i], SHRT_MIN, SHRT_MAX, &c)) {
        reply("error not an error code: %s", argv[i]);
        return;
      }
      /* The variadic API takes (error, rtt) pairs; pushing them one at a time keeps their order. */
      rd_kafka_resp_err_t err = rd_kafka_mock_broker_push_request_error_rtts(
          cluster, (int32_t)a, (int16_t)b, 1, (rd_kafka_resp_err_t)c, (int)rtt);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        reply_result(err);
        return;
      }
    }
    reply("ok");
  } else if (strcmp(command, "clear-request-errors") == 0) {
    if (argc != 2 || parse_long(argv[1], 0, SHRT_MAX, &a)) {
      reply("error usage: clear-request-errors <api-key>");
      return;
    }
    rd_kafka_mock_clear_request_errors(cluster, (int16_t)a);
    reply("ok");
  } else if (strcmp(command, "broker-rtt") == 0) {
    if (argc != 3 || parse_long(argv[1], -1, INT_MAX, &a) || parse_long(argv[2], 0, INT_MAX, &b)) {
      reply("error usage: broker-rtt <broker-id|-1> <ms>");
      return;
    }
    reply_result(rd_kafka_mock_broker_set_rtt(cluster, (int32_t)a, (int)b));
  } else if (strcmp(command, "partition-leader") == 0) {
    if (argc != 4 || parse_long(argv[2], 0, INT_MAX, &a) || parse_long(argv[3], -1, INT_MAX, &b)) {
      reply("error usage: partition-leader <topic> <partition> <broker-id|-1>");
      return;
    }
    reply_result(rd_kafka_mock_partition_set_leader(cluster, argv[1], (int32_t)a, (int32_t)b));
  } else if (strcmp(command, "topic-error") == 0) {
    if (argc != 3 || parse_long(argv[2], SHRT_MIN, SHRT_MAX, &a)) {
      reply("error usage: topic-error <topic> <code>");
      return;
    }
    rd_kafka_mock_topic_set_error(cluster, argv[1], (rd_kafka_resp_err_t)a);
    reply("ok");
  } else if (strcmp(command, "api-version") == 0) {
    if (argc != 4 || parse_long(argv[1], 0, SHRT_MAX, &a) || parse_long(argv[2], -1, SHRT_MAX, &b) ||
        parse_long(argv[3], -1, SHRT_MAX, &c)) {
      reply("error usage: api-version <api-key> <min> <max>");
      return;
    }
    reply_result(rd_kafka_mock_set_apiversion(cluster, (int16_t)a, (int16_t)b, (int16_t)c));
  } else {
    reply("error unknown command: %s", command);
  }
}

int main(int argc, char **argv) {
  long broker_count = 3;
  if (argc > 2 || (argc == 2 && parse_long(argv[1], 1, 64, &broker_count))) {
    fprintf(stderr, "usage: %s [broker-count (1-64, default 3)]\n", argv[0]);
    return 2;
  }

  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* The handle only hosts the mock cluster's thread; it never connects anywhere itself. Warnings
   * and errors still reach stderr, which the wrapper keeps for its error messages. */
  if (rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "kafka-test-broker: %s\n", errstr);
    return 1;
  }
  rd_kafka_t *handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (handle == NULL) {
    fprintf(stderr, "kafka-test-broker: %s\n", errstr);
    return 1;
  }
  cluster = rd_kafka_mock_cluster_new(handle, (int)broker_count);
  if (cluster == NULL) {
    fprintf(stderr, "kafka-test-broker: could not create the mock cluster\n");
    rd_kafka_destroy(handle);
    return 1;
  }
  reply("bootstrap %s", rd_kafka_mock_cluster_bootstraps(cluster));

  char line[MAX_LINE];
  while (fgets(line, sizeof line, stdin) != NULL) {
    char *args[MAX_ARGS + 3];
    int count = 0;
    for (char *token = strtok(line, " \t\r\n"); token != NULL && count < MAX_ARGS + 3;
         token = strtok(NULL, " \t\r\n"))
      args[count++] = token;
    if (count == 0) {
      reply("error empty command");
      continue;
    }
    if (strcmp(args[0], "quit") == 0) {
      reply("ok");
      break;
    }
    run_command(args, count);
  }

  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(handle);
  return 0;
}
