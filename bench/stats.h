#pragma once

#include <vector>

namespace deputy::bench {

// Median of `values` (the mean of the two middle ones for an even count); 0 when empty.
double Median(std::vector<double> values);

// Percentile by nearest rank: the smallest value with at least `p` percent of the values at or
// below it (p in (0, 100]); 0 when empty.
double Percentile(std::vector<double> values, double p);

}  // namespace deputy::bench
