/* volume_obj.h — the ObjType of storage volumes (see obj.h). */
#pragma once

#include "objects/obj.h"
#include "objects/volume_def.h"

extern const ObjType volume_obj_type;
