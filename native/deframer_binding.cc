#include "deframer_binding.h"

namespace iscsi {
namespace {

ModuleRegistration registration(DeframerBinding::Init);

}  // namespace
}  // namespace iscsi
