/* pool_obj.h — the ObjType of storage pools (see obj.h). */
#pragma once

#include "objects/obj.h"
#include "objects/pool_def.h"

extern const ObjType pool_obj_type;
