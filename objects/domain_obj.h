/* domain_obj.h — the ObjType of domains (see obj.h). */
#pragma once

#include "objects/domain_def.h"
#include "objects/obj.h"

extern const ObjType domain_obj_type;
