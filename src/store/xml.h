#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace standby {

// Just enough XML for S3 responses: the inner text of every <tag>...</tag> (no attributes on
// the tag, no nesting of the same tag), in document order.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag);
// The first element's text, entity-decoded, or nullopt.
std::optional<std::string> XmlFirst(std::string_view xml, std::string_view tag);
// Decodes &amp; &lt; &gt; &quot; &apos; and numeric character references.
std::string XmlUnescape(std::string_view text);
std::string XmlEscape(std::string_view text);

}  // namespace standby
