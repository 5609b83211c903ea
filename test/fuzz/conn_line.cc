// The connection table's parser over arbitrary text: split into lines as the
// reader splits what it reads, each line parsed and filtered, and quoted as
// an error would quote it.
#include <cstdlib>
#include <string_view>

#include "../../native/conn_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  ipvs::Filter filter;
  filter.protocol = "TCP";
  filter.client.af = 2;
  filter.destination.port = 80;
  auto parse = [&](std::string_view line) {
    ipvs::Entry e;
    if (ipvs::ParseLine(line, e)) {
      // What the parser hands out points into the line.
      for (std::string_view v : {e.protocol, e.state, e.peName, e.peData})
        if (!v.empty() && (v.data() < line.data() || v.data() + v.size() > line.data() + line.size())) abort();
      if ((e.af != 2 && e.af != 10) || (e.destinationAf != 2 && e.destinationAf != 10)) abort();
      filter.Test(e);
    }
    if (ipvs::QuoteLine(line).size() > 64 + 5) abort();
  };
  size_t taken = ipvs::SplitLines(text, size, [&](size_t, std::string_view line) {
    parse(line);
    return true;
  });
  if (taken > size) abort();
  // The last line, without its newline, as a reader at the end of the file sees it.
  if (taken < size && size - taken <= ipvs::kMaxLine) parse(std::string_view(text + taken, size - taken));
  return 0;
}
