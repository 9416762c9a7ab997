/*
 * Statistics of a running probe, written as text, JSON or Prometheus
 * metrics from one walk over the counters.
 */
#ifndef STATS_H
#define STATS_H

#include <stdio.h>

#include "probe.h"

enum stats_format { STATS_TEXT, STATS_JSON, STATS_PROMETHEUS };

void	stats_write(struct probe *p, enum stats_format fmt, FILE *fp);

#endif /* STATS_H */
