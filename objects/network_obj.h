/* network_obj.h — the ObjType of virtual networks (see obj.h). */
#pragma once

#include "objects/network_def.h"
#include "objects/obj.h"

extern const ObjType network_obj_type;
